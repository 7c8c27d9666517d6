"""With the otel extra installed and STEPMAP_TELEMETRY__ENABLED on, API requests make spans
(the request, and the Redis commands it runs on the real server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from orchestrator import telemetry
from orchestrator.api import create_app
from orchestrator.settings import Settings, TelemetrySettings

pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra is not installed")


@pytest.fixture
def traced(settings: Settings) -> Iterator[Settings]:
    on = settings.model_copy(update={"telemetry": TelemetrySettings(enabled=True,
                                                                    exporter="console")})
    try:
        yield on
    finally:
        telemetry.shutdown()


def test_an_api_request_makes_a_server_span_and_redis_spans(traced: Settings) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    app = create_app(traced)
    exporter = InMemorySpanExporter()
    telemetry.tracer_provider(traced, "api").add_span_processor(SimpleSpanProcessor(exporter))
    with TestClient(app) as client:
        assert client.get("/v1/state-machines").status_code == 200
        assert client.get("/healthz").status_code == 200
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    assert [s.attributes and s.attributes.get("http.route") for s in servers] == [
        "/v1/state-machines"]  # the probes' /healthz is not traced
    (server,) = servers
    assert server.resource.attributes["service.name"] == "stepmap-api"
    redis_spans = [s for s in spans if s.attributes and s.attributes.get("db.system") == "redis"]
    assert redis_spans
    assert all(s.context.trace_id == server.context.trace_id for s in redis_spans
               if s.parent is not None)


def test_with_the_setting_off_nothing_is_traced(settings: Settings) -> None:
    assert telemetry.instrument_api(create_app(settings), settings) is False
    assert telemetry.tracer_provider(settings, "api") is None

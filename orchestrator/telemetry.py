"""Optional OpenTelemetry tracing through the instrumentation packages (the ``otel`` extra).

Off by default. With ``STEPMAP_TELEMETRY__ENABLED=true`` each process sets up one tracer
provider (service ``{service_name}-{kind}``, spans to OTLP/HTTP or the console) and the
existing instrumentations: FastAPI in the API, Celery in the API (publishing) and the workers
(each task, linked to the request that sent it through the message headers), Redis and
botocore (S3) everywhere. Workers set it up in each pool process
(``worker_process_init``), after the fork, as the OpenTelemetry Celery docs ask. With the
setting off, nothing of OpenTelemetry is imported.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from orchestrator.settings import Settings, TelemetrySettings

log = logging.getLogger(__name__)

#: What the ``otel`` extra brings, by the module each instrumentation is imported from.
INSTRUMENTORS = {
    "celery": ("opentelemetry.instrumentation.celery", "CeleryInstrumentor"),
    "redis": ("opentelemetry.instrumentation.redis", "RedisInstrumentor"),
    "botocore": ("opentelemetry.instrumentation.botocore", "BotocoreInstrumentor"),
}

_state: dict[str, Any] = {}


class TelemetryUnavailable(RuntimeError):
    """Tracing is on but the ``otel`` extra is not installed."""


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise TelemetryUnavailable(
            f"STEPMAP_TELEMETRY__ENABLED is on but {exc.name or module} is missing: "
            "install stepmap with its otel extra (pip install 'stepmap[otel]')") from exc


def _exporter(config: TelemetrySettings) -> Any:
    if config.exporter == "console":
        return _import("opentelemetry.sdk.trace.export").ConsoleSpanExporter()
    otlp = _import("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    if config.otlp_endpoint:
        return otlp.OTLPSpanExporter(endpoint=config.otlp_endpoint)
    return otlp.OTLPSpanExporter()


def tracer_provider(settings: Settings, kind: str) -> Any:
    """The process's tracer provider, set up on first call (None when tracing is off)."""
    config = settings.telemetry
    if not config.enabled:
        return None
    if "provider" not in _state:
        sdk_trace = _import("opentelemetry.sdk.trace")
        resources = _import("opentelemetry.sdk.resources")
        export = _import("opentelemetry.sdk.trace.export")
        trace = _import("opentelemetry.trace")
        provider = sdk_trace.TracerProvider(resource=resources.Resource.create(
            {"service.name": f"{config.service_name}-{kind}"}))
        provider.add_span_processor(export.BatchSpanProcessor(_exporter(config)))
        trace.set_tracer_provider(provider)
        _state["provider"] = trace.get_tracer_provider()
        log.info("tracing on: service %s-%s, exporter %s", config.service_name, kind,
                 config.exporter)
    return _state["provider"]


def _instrument(*names: str) -> None:
    for name in names:
        module, attr = INSTRUMENTORS[name]
        instrumentor = getattr(_import(module), attr)()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def instrument_api(app: Any, settings: Settings) -> bool:
    """Trace the API app's requests (not the probes' ``/healthz`` and ``/metrics``), the tasks
    it sends, Redis and S3; False when off."""
    if tracer_provider(settings, "api") is None:
        return False
    fastapi = _import("opentelemetry.instrumentation.fastapi")
    fastapi.FastAPIInstrumentor.instrument_app(app, excluded_urls="/healthz$,/metrics$")
    _instrument("celery", "redis", "botocore")
    return True


def instrument_worker(settings: Settings, kind: str) -> None:
    """Trace each task of a Celery worker (and its Redis and S3 calls) once its pool process
    starts; nothing when tracing is off."""
    if not settings.telemetry.enabled:
        return
    _import("opentelemetry.instrumentation.celery")  # a missing extra stops the worker's start
    from celery import signals

    def start(**_: Any) -> None:
        tracer_provider(settings, kind)
        _instrument("celery", "redis", "botocore")

    def flush(**_: Any) -> None:
        provider = _state.get("provider")
        if provider is not None:
            provider.shutdown()

    signals.worker_process_init.connect(start, weak=False, dispatch_uid="stepmap.otel.start")
    signals.worker_process_shutdown.connect(flush, weak=False, dispatch_uid="stepmap.otel.stop")


def shutdown() -> None:
    """Remove the instrumentations and flush and stop the provider (tests; process exit)."""
    for module, attr in INSTRUMENTORS.values():
        instrumentor = getattr(_import(module), attr)()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    provider = _state.pop("provider", None)
    if provider is not None:
        provider.shutdown()

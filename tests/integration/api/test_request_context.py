"""Every API response carries the request id its log lines carry."""

from __future__ import annotations

import uuid

from orchestrator.api.request_context import _arns
from tests.integration.api.support import TestClient


def test_a_client_request_id_is_echoed_and_a_missing_one_is_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert uuid.UUID(made.headers["x-request-id"])
    unsafe = client.get("/healthz", headers={"X-Request-Id": "a b\\nc"})
    assert unsafe.headers["x-request-id"] != "a b\\nc"


def test_the_arn_in_a_path_is_bound_as_execution_or_map_run() -> None:
    execution = "arn:aws:states:us-east-1:000000000000:execution:etl:run-1"
    map_run = "arn:aws:states:us-east-1:000000000000:mapRun:etl/Map:abc"
    assert _arns(f"/v1/executions/{execution}/history") == {"execution_arn": execution}
    assert _arns(f"/v1/executions/{execution}") == {"execution_arn": execution}
    assert _arns(f"/v1/map-runs/{map_run}/executions") == {"map_run_arn": map_run}
    assert _arns(f"/console/api/map-runs/{map_run}/failures") == {"map_run_arn": map_run}
    assert _arns("/v1/state-machines") == {}

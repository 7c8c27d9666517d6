"""Bearer tokens on both faces, /healthz, the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import redis

from orchestrator.api import create_app
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys
from orchestrator.store.redis_store import RedisStore
from tests.integration.api.support import REGION, FakePublisher, TestClient, aws

TOKEN = "s3cret-token"


def with_auth(settings: Settings, tokens: list[str]) -> Settings:
    return Settings(redis={"url": settings.redis.url}, api={"auth_enabled": True, "tokens": tokens})


@pytest.fixture
def secured(settings: Settings, service: StepFunctionsService) -> TestClient:
    locked = with_auth(settings, [TOKEN])
    return TestClient(create_app(locked, service))


def test_rest_requests_without_a_token_are_401(secured: TestClient) -> None:
    response = secured.get("/v1/state-machines")
    assert response.status_code == 401
    assert response.json() == {
        "error": "UnrecognizedClientException",
        "message": "Missing or invalid bearer token",
    }
    assert (
        secured.get("/v1/state-machines", headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )


def test_rest_requests_with_the_token_pass(secured: TestClient) -> None:
    response = secured.get("/v1/state-machines", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.json() == {"stateMachines": []}


def test_aws_face_accepts_the_token_header_or_bearer(secured: TestClient) -> None:
    assert aws(secured, "ListStateMachines").json()["__type"] == "UnrecognizedClientException"
    assert aws(secured, "ListStateMachines", **{"X-Stepmap-Token": TOKEN}).json() == {
        "stateMachines": []
    }
    assert aws(secured, "ListStateMachines", Authorization=f"Bearer {TOKEN}").json() == {
        "stateMachines": []
    }


def test_auth_enabled_without_tokens_refuses_everything(
    settings: Settings, service: StepFunctionsService
) -> None:
    locked = with_auth(settings, [])
    client = TestClient(create_app(locked, service))
    assert client.get("/v1/state-machines", headers={"Authorization": "Bearer "}).status_code == 401


def test_healthz_needs_no_token_and_reports_redis(secured: TestClient) -> None:
    assert secured.get("/healthz").json() == {"status": "ok", "redis": "reachable"}


def test_healthz_is_503_when_redis_is_unreachable(settings: Settings) -> None:
    dead = RedisStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), Keys("x"))
    client = TestClient(create_app(settings, StepFunctionsService(dead, settings, FakePublisher())))
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "redis": "unreachable"},
    )


def test_openapi_documents_both_faces(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/",
        "/healthz",
        "/v1/state-machines",
        "/v1/executions/{arn}",
        "/v1/map-runs/{arn}",
    } <= set(paths)
    assert client.get("/docs").status_code == 200


def test_boto3_with_the_token_header_passes_auth(
    settings: Settings, service: StepFunctionsService
) -> None:
    import threading
    import time

    import uvicorn

    from tests.integration.api.support import free_port

    locked = with_auth(settings, [TOKEN])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(locked, service), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        sfn: Any = boto3.client(
            "stepfunctions",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name=REGION,
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        with pytest.raises(sfn.exceptions.ClientError) as caught:
            sfn.list_state_machines()
        assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"

        def add_token(request: Any, **_: Any) -> None:
            request.headers["X-Stepmap-Token"] = TOKEN

        sfn.meta.events.register("before-sign.states.*", add_token)
        assert sfn.list_state_machines()["stateMachines"] == []
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_create_app_without_a_service_wires_redis_celery_and_map_runs(
    settings: Settings, redis_url: str
) -> None:
    client = TestClient(create_app(settings))
    definition = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
    machine = client.post("/v1/state-machines", json={"name": "wired", "definition": definition})
    started = client.post(
        "/v1/executions", json={"stateMachineArn": machine.json()["stateMachineArn"]}
    )
    assert started.status_code == 200
    queued = redis.Redis.from_url(redis_url).lrange(settings.celery.control_queue, 0, -1)
    assert [json.loads(m)["headers"]["task"] for m in queued] == [
        "stepmap.control.advance_execution"
    ]
    ghost = "arn:aws:states:us-east-1:000000000000:mapRun:wired/Items:0000"
    assert client.get(f"/v1/map-runs/{ghost}").json()["error"] == "ResourceNotFound"

"""Fixtures of the API tests: a service on the real Redis, a TestClient, and a real uvicorn
server for boto3."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import redis
import uvicorn

from orchestrator.api import create_app
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings
from orchestrator.store.base import StateStore
from orchestrator.store.keys import Keys
from orchestrator.store.memory_store import MemoryStore
from orchestrator.store.redis_store import RedisStore
from tests.integration.api.support import REGION, FakeMapRuns, FakePublisher, TestClient, free_port


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def map_runs() -> FakeMapRuns:
    return FakeMapRuns()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(params=["redis", "memory"])
def service(
    request: pytest.FixtureRequest,
    settings: Settings,
    redis_client: redis.Redis,
    publisher: FakePublisher,
    map_runs: FakeMapRuns,
) -> StepFunctionsService:
    """The service on the real Redis store, and again on the memory store (same behaviour)."""
    store: StateStore
    if request.param == "redis":
        store = RedisStore(redis_client, Keys(settings.redis.key_prefix))
    else:
        store = MemoryStore()
    return StepFunctionsService(store, settings, publisher, map_runs)


@pytest.fixture
def client(settings: Settings, service: StepFunctionsService) -> Iterator[TestClient]:
    with TestClient(create_app(settings, service)) as test_client:
        yield test_client


@pytest.fixture
def server_url(settings: Settings, service: StepFunctionsService) -> Iterator[str]:
    """A real uvicorn server on a free loopback port, serving the app in a background thread."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, service), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def sfn(server_url: str) -> Any:
    """A boto3 Step Functions client pointed at the server (any credentials are accepted)."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=server_url,
        region_name=REGION,
        aws_access_key_id="anything",
        aws_secret_access_key="anything",
    )

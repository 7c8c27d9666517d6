"""Session-wide real servers for the integration and e2e tests.

A real ``redis-server`` and moto's S3 server are started on free loopback ports once per test
session (no mocks, no eager mode). Unit tests never touch these fixtures. Set
``STEPMAP_TEST_REDIS_URL`` / ``STEPMAP_TEST_S3_URL`` to use servers you already run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.settings import Settings


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """URL of a real Redis server for this session (db 0 of a fresh server)."""
    given = os.environ.get("STEPMAP_TEST_REDIS_URL")
    if given:
        yield given
        return
    from orchestrator.devstack.servers import ServerError, start_redis

    try:
        server = start_redis()
    except ServerError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis server available: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_endpoint_url() -> Iterator[str]:
    """Endpoint URL of a real S3-compatible server (moto server mode) for this session."""
    given = os.environ.get("STEPMAP_TEST_S3_URL")
    if given:
        yield given
        return
    from orchestrator.devstack.servers import ServerError, start_s3

    try:
        server = start_s3()
    except ServerError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no S3 server available: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """The session Redis, flushed before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    client.flushall()
    try:
        yield redis_server_url
    finally:
        client.flushall()
        client.close()


@pytest.fixture
def s3_client(s3_endpoint_url: str) -> Any:
    """A boto3 S3 client pointed at the session's S3 server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint_url,
        aws_access_key_id="stepmap",
        aws_secret_access_key="stepmap",
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3_client: Any) -> str:
    """A fresh, empty bucket for one test."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def settings(redis_url: str, s3_endpoint_url: str) -> Settings:
    """Settings pointing at the session's real Redis and S3 servers."""
    return Settings(
        redis={"url": redis_url},
        s3={"endpoint_url": s3_endpoint_url},
        api={"auth_enabled": False},
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder so ``-m "not e2e"`` works."""
    for item in items:
        parts = item.path.parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)

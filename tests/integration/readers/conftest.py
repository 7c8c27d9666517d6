"""Helpers for the item reader tests against the session's real S3 server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def put(s3_client: Any, bucket: str) -> Callable[[str, bytes], str]:
    """Upload ``data`` to ``key`` in the test's bucket; returns the key."""

    def upload(key: str, data: bytes) -> str:
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)
        return key

    return upload


class RecordingClient:
    """Wraps a boto3 S3 client and records the parameters of every call made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**params: Any) -> Any:
            self.calls.append((name, params))
            return method(**params)

        return call


@pytest.fixture
def recording_s3(s3_client: Any) -> RecordingClient:
    """The S3 client, recording its calls."""
    return RecordingClient(s3_client)

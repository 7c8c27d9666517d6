"""Streaming object reads over a fake in-memory S3 client: reconnects and decompression."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers import _s3
from orchestrator.readers._s3 import compression_of, iter_object


class Body:
    def __init__(self, data: bytes, fail_at: int | None) -> None:
        self._data = data
        self._pos = 0
        self._fail_at = fail_at

    def read(self, size: int) -> bytes:
        if self._fail_at is not None and self._pos >= self._fail_at:
            raise ReadTimeoutError(endpoint_url="http://s3.test")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk

    def close(self) -> None:
        pass


class FlakyS3:
    """Serves one object; the first ``failures`` responses break after ``fail_at`` bytes."""

    def __init__(self, data: bytes, *, failures: int, fail_at: int) -> None:
        self.data = data
        self.failures = failures
        self.fail_at = fail_at
        self.requests: list[dict[str, Any]] = []

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.requests.append(params)
        start = int(params["Range"][6:-1]) if "Range" in params else 0
        failing = self.failures > 0
        self.failures -= 1
        return {"Body": Body(self.data[start:], self.fail_at if failing else None),
                "ETag": '"etag-1"'}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_s3, "CHUNK_SIZE", 4)


def test_a_broken_stream_reconnects_at_the_byte_it_stopped() -> None:
    s3 = FlakyS3(b"0123456789abcdef", failures=2, fail_at=8)
    assert b"".join(iter_object(s3, "b", "k.txt")) == b"0123456789abcdef"
    assert [(r.get("Range"), r.get("IfMatch")) for r in s3.requests] == [
        (None, None), ("bytes=8-", '"etag-1"'), ("bytes=16-", '"etag-1"')
    ]


def test_a_stream_that_keeps_breaking_fails_naming_the_object() -> None:
    s3 = FlakyS3(b"0123456789", failures=10, fail_at=0)
    with pytest.raises(ItemReaderFailed) as raised:
        b"".join(iter_object(s3, "b", "k.txt"))
    assert raised.value.cause.startswith("Failed to read s3://b/k.txt: ReadTimeoutError: ")
    assert len(s3.requests) == 4


def test_gzip_resume_skips_decompressed_bytes_from_a_full_read() -> None:
    s3 = FlakyS3(gzip.compress(b"hello world"), failures=0, fail_at=0)
    assert b"".join(iter_object(s3, "b", "k.txt.gz", start=6)) == b"world"
    assert "Range" not in s3.requests[0]


def test_compression_is_chosen_by_extension() -> None:
    keys = ("a.csv", "a.csv.gz", "A.JSONL.GZIP", "a.zst", "a.zstd")
    assert [compression_of(k) for k in keys] == [None, "gzip", "gzip", "zstd", "zstd"]


def test_zstd_without_the_module_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_zstandard(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "zstandard":
            raise ImportError("No module named 'zstandard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_zstandard)
    s3 = FlakyS3(b"\x28\xb5\x2f\xfd", failures=0, fail_at=0)
    with pytest.raises(ItemReaderFailed) as raised:
        b"".join(iter_object(s3, "b", "k.csv.zst"))
    assert raised.value.cause == (
        "Cannot read s3://b/k.csv.zst: ZSTD decompression needs the 'zstandard' Python "
        "package, which is not installed."
    )

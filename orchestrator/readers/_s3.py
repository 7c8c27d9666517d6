"""Streaming S3 access for the item readers, and the one place botocore errors are translated.

Every S3 call a reader makes runs inside :func:`s3_errors`, which turns botocore's
exceptions into ``States.ItemReaderFailed`` with a cause naming the bucket and key
(STYLE.md §7: translate at the boundary, chain with ``from``).

Object bodies are read in fixed-size chunks and never held whole in memory.

Compression (spec §2.2, detection "unverified"): decided by the key's extension only —
``.gz``/``.gzip`` is GZIP (multi-member files supported), ``.zst``/``.zstd`` is ZSTD
(needs the optional ``zstandard`` module; without it the reader fails with a clear
cause). ``Content-Encoding`` and magic bytes are ignored: AWS documents its examples by
extension (``x.jsonl.gz``, ``x.csv.zstd``) and an extension rule is predictable.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.asl.errors import ItemReaderFailed

logger = logging.getLogger(__name__)

#: Reconnections allowed while streaming one object (each resumes at the byte it stopped).
STREAM_RETRIES = 3

#: Bytes asked from S3 (and produced by decompressors) per read. The range planner holds about
#: three of them at once (the read, the carried line joined to it, the whole-lines block); at
#: 1 MiB they were the control worker's largest blocks while it planned a CSV (issue 14).
CHUNK_SIZE = 256 * 1024

_GZIP_SUFFIXES = (".gz", ".gzip")
_ZSTD_SUFFIXES = (".zst", ".zstd")


def describe(bucket: str, key: str | None = None) -> str:
    """``s3://bucket/key`` (or ``s3://bucket``) for causes and logs."""
    return f"s3://{bucket}/{key}" if key is not None else f"s3://{bucket}"


@contextmanager
def s3_errors(bucket: str, key: str | None = None, *, action: str = "read") -> Iterator[None]:
    """Translate botocore (and socket) errors raised inside the block into ItemReaderFailed.

    Args:
        bucket: the bucket being accessed, named in the cause.
        key: the key being accessed (None for a listing), named in the cause.
        action: what was being done, e.g. ``read`` or ``list``.

    Raises:
        ItemReaderFailed: with a cause like ``Failed to read s3://b/k: NoSuchKey: The
            specified key does not exist.``, chained to the original exception.
    """
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        message = error.get("Message") or str(exc)
        raise ItemReaderFailed(
            f"Failed to {action} {describe(bucket, key)}: {code}: {message}"
        ) from exc
    except (BotoCoreError, OSError) as exc:
        raise ItemReaderFailed(
            f"Failed to {action} {describe(bucket, key)}: {type(exc).__name__}: {exc}"
        ) from exc


def compression_of(key: str) -> str | None:
    """``"gzip"``, ``"zstd"`` or None, from the key's extension (case-insensitive)."""
    lowered = key.lower()
    if lowered.endswith(_GZIP_SUFFIXES):
        return "gzip"
    if lowered.endswith(_ZSTD_SUFFIXES):
        return "zstd"
    return None


def iter_object(
    s3: Any,
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    expected_owner: str | None = None,
    if_match: str | None = None,
    start: int = 0,
    stop: int | None = None,
    meta: dict[str, Any] | None = None,
) -> Iterator[bytes]:
    """Yield the (decompressed) bytes of an object in chunks, from offset ``start``.

    ``start`` is an offset in the decompressed stream. Plain objects are resumed with an
    HTTP ``Range`` request (no re-read); compressed objects cannot be entered in the
    middle, so they are streamed from the beginning and the first ``start`` decompressed
    bytes are discarded (still constant memory).

    Args:
        s3: a boto3 S3 client.
        bucket: bucket name.
        key: object key.
        version_id: optional ``VersionId``.
        expected_owner: optional ``ExpectedBucketOwner``.
        if_match: optional ETag the object must still have (resume safety).
        start: decompressed byte offset to start at.
        stop: plain objects only: the byte offset to stop before (one bounded Range GET).
        meta: when given, receives the object's ``ETag``.

    Raises:
        ItemReaderFailed: on any S3 error or corrupt compressed data.
    """
    compression = compression_of(key)
    if stop is not None and compression is not None:
        raise ValueError("a bounded read is for uncompressed objects")
    ranged = start if compression is None else 0
    raw = _iter_raw(s3, bucket, key, version_id, expected_owner, if_match, ranged, meta, stop)
    if compression is None:
        yield from raw
        return
    chunks = _gunzip(raw, bucket, key) if compression == "gzip" else _unzstd(raw, bucket, key)
    yield from _skip(chunks, start)


def _iter_raw(
    s3: Any,
    bucket: str,
    key: str,
    version_id: str | None,
    expected_owner: str | None,
    if_match: str | None,
    start: int,
    meta: dict[str, Any] | None,
    stop: int | None = None,
) -> Iterator[bytes]:
    """Raw object bytes from ``start`` (to ``stop``); a dropped connection is resumed with a
    Range GET.

    A 10 GB object takes minutes to stream and one broken connection must not fail the
    Map Run: up to :data:`STREAM_RETRIES` times, the read is re-opened at the byte it
    stopped at, with ``If-Match`` on the first response's ETag so it is the same object.
    """
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if expected_owner:
        params["ExpectedBucketOwner"] = expected_owner
    position = start
    retries = 0
    while True:
        if if_match:
            params["IfMatch"] = if_match
        if stop is not None:
            if position >= stop:
                return
            params["Range"] = f"bytes={position}-{stop - 1}"
        elif position > 0:
            params["Range"] = f"bytes={position}-"
        opened = _open_body(s3, bucket, key, params, position)
        if opened is None:
            return
        body, etag = opened
        if meta is not None:
            meta["ETag"] = etag
        if_match = if_match or etag
        try:
            while True:
                try:
                    chunk = body.read(CHUNK_SIZE)
                except (BotoCoreError, OSError) as exc:
                    if retries >= STREAM_RETRIES or not if_match:
                        with s3_errors(bucket, key):
                            raise
                    retries += 1
                    logger.warning(
                        "reading %s broke at byte %d (%s); reconnecting (%d/%d)",
                        describe(bucket, key), position, exc, retries, STREAM_RETRIES,
                    )
                    break
                if not chunk:
                    return
                position += len(chunk)
                yield chunk
        finally:
            body.close()


def _open_body(
    s3: Any,
    bucket: str,
    key: str,
    params: dict[str, Any],
    position: int,
) -> tuple[Any, str | None] | None:
    """GetObject's streaming body and ETag, or None when ``position`` is the object's end."""
    try:
        with s3_errors(bucket, key):
            response = s3.get_object(**params)
    except ItemReaderFailed as exc:
        # Resuming exactly at the end of the object asks for an empty range.
        cause = exc.__cause__
        if position > 0 and isinstance(cause, ClientError):
            if cause.response.get("Error", {}).get("Code") == "InvalidRange":
                return None
        raise
    return response["Body"], response.get("ETag")


def _gunzip(chunks: Iterable[bytes], bucket: str, key: str) -> Iterator[bytes]:
    # wbits=31: gzip header required. Output is bounded per call (max_length) so a
    # highly compressed object cannot blow up memory.
    decoder = zlib.decompressobj(31)
    in_member = False
    try:
        for chunk in chunks:
            data = chunk
            while data:
                in_member = True
                out = decoder.decompress(data, CHUNK_SIZE)
                if out:
                    yield out
                if decoder.eof:
                    # Concatenated gzip members (e.g. appended files) continue the stream.
                    data = decoder.unused_data
                    decoder = zlib.decompressobj(31)
                    in_member = False
                else:
                    data = decoder.unconsumed_tail
        if in_member:
            rest = decoder.flush()
            if rest:
                yield rest
            if not decoder.eof:
                raise ItemReaderFailed(
                    f"Failed to decompress {describe(bucket, key)} as GZIP: "
                    "the compressed stream ends early (truncated object)."
                )
    except zlib.error as exc:
        raise ItemReaderFailed(
            f"Failed to decompress {describe(bucket, key)} as GZIP: {exc}"
        ) from exc


class _ChunkFile:
    """A minimal read-only file object over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._pos = 0
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining when negative)."""
        if size is None or size < 0:
            data = self._buffer[self._pos :] + b"".join(self._chunks)
            self._buffer, self._pos = b"", 0
        else:
            while self._pos >= len(self._buffer):
                chunk = next(self._chunks, None)
                if chunk is None:
                    return b""
                self._buffer, self._pos = chunk, 0
            # Slicing from an offset copies only what is returned, not the rest.
            data = self._buffer[self._pos : self._pos + size]
            self._pos += len(data)
        self.consumed += len(data)
        return data


def chunk_file(chunks: Iterable[bytes]) -> _ChunkFile:
    """Wrap byte chunks as a file object with ``read(n)`` and a ``consumed`` counter."""
    return _ChunkFile(chunks)


def _unzstd(chunks: Iterable[bytes], bucket: str, key: str) -> Iterator[bytes]:
    try:
        import zstandard
    except ImportError as exc:
        raise ItemReaderFailed(
            f"Cannot read {describe(bucket, key)}: ZSTD decompression needs the "
            "'zstandard' Python package, which is not installed."
        ) from exc
    reader = zstandard.ZstdDecompressor().stream_reader(
        _ChunkFile(chunks),  # type: ignore[arg-type]  # duck-typed file object
        read_size=CHUNK_SIZE,
        read_across_frames=True,
    )
    try:
        while True:
            out = reader.read(CHUNK_SIZE)
            if not out:
                return
            yield out
    except zstandard.ZstdError as exc:
        raise ItemReaderFailed(
            f"Failed to decompress {describe(bucket, key)} as ZSTD: {exc}"
        ) from exc


def _skip(chunks: Iterable[bytes], count: int) -> Iterator[bytes]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        if count:
            chunk = chunk[count:]
            count = 0
        yield chunk


def read_small_object(s3: Any, bucket: str, key: str, *, limit: int) -> bytes:
    """Read an object that is expected to be small (a manifest), refusing more than ``limit``.

    Raises:
        ItemReaderFailed: on S3 errors or when the object is larger than ``limit``.
    """
    parts: list[bytes] = []
    size = 0
    for chunk in iter_object(s3, bucket, key):
        size += len(chunk)
        if size > limit:
            raise ItemReaderFailed(
                f"{describe(bucket, key)} is larger than the {limit} bytes allowed for it."
            )
        parts.append(chunk)
    return b"".join(parts)

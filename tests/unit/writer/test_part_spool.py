"""A result-file part spooled to a temporary file (``orchestrator.writer.PartSpool``)."""

from __future__ import annotations

import hashlib

from orchestrator.writer import PartSpool
from orchestrator.writer._spool import READ_CHUNK


def _read_all(spool: PartSpool, size: int) -> tuple[bytes, list[int]]:
    """Read the body as botocore does (a loop of ``read(size)`` until ``b""``)."""
    body = spool.body()
    pieces = list(iter(lambda: body.read(size), b""))
    return b"".join(pieces), [len(p) for p in pieces]


def test_the_body_holds_every_write_in_order_and_reads_at_most_a_small_chunk_at_a_time() -> None:
    spool = PartSpool()
    entries = [bytes([65 + n % 26]) * (10_000 + n) for n in range(30)]
    for entry in entries:
        spool.write(entry)
    try:
        data, sizes = _read_all(spool, 1024 * 1024)  # botocore's checksum and signature reads
        assert data == b"".join(entries)
        assert len(spool) == len(data)
        assert max(sizes) == READ_CHUNK
    finally:
        spool.close()


def test_a_body_read_again_after_a_rewind_gives_the_same_bytes_as_a_retried_upload_sends() -> None:
    spool = PartSpool()
    spool.write(b"[1,2,3]")
    try:
        body = spool.body()
        assert body.read() == b"[1,2,3]"
        assert body.seekable() and body.tell() == 7
        body.seek(0)
        assert body.read(3) == b"[1,"
        body.seek(0, 2)
        assert body.tell() == 7  # how botocore finds the Content-Length
    finally:
        spool.close()


def test_writes_after_the_body_was_read_go_to_the_end() -> None:
    spool = PartSpool()
    try:
        spool.write(b"abc")
        spool.body().read(1)
        spool.write(b"def")
        assert _read_all(spool, 2)[0] == b"abcdef"
    finally:
        spool.close()


def test_the_md5_is_the_parts_etag_and_clear_starts_a_new_part() -> None:
    spool = PartSpool()
    data = b"x" * (3 * READ_CHUNK + 5)
    try:
        spool.write(data)
        assert spool.md5() == hashlib.md5(data, usedforsecurity=False).hexdigest()
        spool.clear()
        assert not spool and len(spool) == 0
        spool.write(b"next")
        assert _read_all(spool, 100)[0] == b"next"
        assert spool.md5() == hashlib.md5(b"next", usedforsecurity=False).hexdigest()
    finally:
        spool.close()


def test_an_empty_spool_has_an_empty_body_and_makes_no_file() -> None:
    spool = PartSpool()
    assert not spool
    assert spool.body().read() == b""
    assert spool.md5() == hashlib.md5(b"", usedforsecurity=False).hexdigest()
    spool.write(b"")
    assert spool._file is None  # nothing written: no temporary file
    spool.close()


def test_a_closed_spool_removes_its_file_and_can_be_written_again() -> None:
    spool = PartSpool()
    spool.write(b"first")
    first = spool._file
    spool.close()
    assert first is not None and first.closed
    assert len(spool) == 0
    spool.write(b"second")
    try:
        assert _read_all(spool, 100)[0] == b"second"
    finally:
        spool.close()

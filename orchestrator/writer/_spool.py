"""The bytes of one result-file part on their way to S3, kept in a temporary file.

A part is up to ``limits.result_stream_bytes`` (8 MiB by default; a small file sent with one
PutObject is up to that too). Held in memory, a part cost the control process about twice its
size while it uploaded (the buffer, the ``bytes`` copy botocore was given, and glibc keeping the
freed blocks in its heap), so the control worker's peak grew with the size of the result files
until they filled a part (issue 14: a 10M-row run 2.7x a 100k-row run's). A :class:`PartSpool`
appends the framed entries to an anonymous temporary file instead (``tempfile.TemporaryFile``,
in ``$TMPDIR``; the kernel removes it when it is closed or its process dies) and hands botocore
the file, which botocore reads in chunks to checksum, sign and send: the process holds no part,
whatever its size. botocore asks for 1-MiB pieces (checksum, signature); the body hands out at
most :data:`READ_CHUNK` bytes a read, so no piece is a block big enough to matter either.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from typing import BinaryIO

#: Most bytes one read of a spooled part returns (botocore asks for 1 MiB).
READ_CHUNK = 64 * 1024


class SpooledBody:
    """A spooled part as an upload's ``Body``: a seekable file whose reads of a given size
    return at most :data:`READ_CHUNK` bytes (readers loop until ``b""``, as a file allows)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes, at most :data:`READ_CHUNK` (``-1``: all the rest)."""
        if size is None or size < 0:
            return self._file.read()
        return self._file.read(min(size, READ_CHUNK))

    def seek(self, offset: int, whence: int = 0) -> int:
        """As ``file.seek``."""
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        """As ``file.tell``."""
        return self._file.tell()

    def seekable(self) -> bool:
        """Always: botocore rewinds a body it sends again."""
        return True

    def readable(self) -> bool:
        """Always."""
        return True


class PartSpool:
    """Bytes appended one entry at a time, then read back as an upload's body.

    Not thread-safe: one writer, and the reader (an upload) only after the writes.
    """

    def __init__(self) -> None:
        self._file: BinaryIO | None = None
        self._size = 0
        #: Whether the file's position may be off its end (given out by :meth:`body`).
        self._read = False

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        if not data:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="stepmap-part-")
        if self._read:
            self._file.seek(0, 2)
            self._read = False
        self._file.write(data)
        self._size += len(data)

    def body(self) -> SpooledBody:
        """The spooled bytes as a file positioned at their start (an upload's ``Body``).

        botocore reads it to the end (more than once: checksum, signature, the request) and
        seeks back to where it was given; it stays the spool's, so :meth:`clear` or
        :meth:`close` after the upload.
        """
        if self._file is None:
            return SpooledBody(io.BytesIO())
        self._file.flush()
        self._file.seek(0)
        self._read = True
        return SpooledBody(self._file)

    def md5(self) -> str:
        """The hex MD5 of the spooled bytes (S3's ETag of a part holding them)."""
        digest = hashlib.md5(usedforsecurity=False)
        if self._file is not None:
            source = self.body()
            for chunk in iter(lambda: source.read(READ_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def clear(self) -> None:
        """Drop the bytes (after their upload); the next write starts a new part."""
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
        self._size = 0
        self._read = False

    def close(self) -> None:
        """Remove the temporary file (a closed spool can be written again: a new file)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._size = 0
        self._read = False

"""Byte ranges of a CSV or JSONL object: the control plane plans them, each child reads its own.

For a Map Run whose child inputs are batches with boundaries that do not depend on the items
(see :func:`eligible`), the feeder does not parse the object: :class:`RangePlanner` streams it
and only finds the byte offset after every ``MaxItemsPerBatch`` records. Each child then
carries a small :class:`RangeInput` (bucket, key, ETag/VersionId, byte range, first line and
item index, CSV headers, BatchInput already evaluated) instead of its input text, and the
worker that runs it builds the text with :func:`resolve_all`: one ranged GET per run of
adjacent ranges, pinned to the planned object (``If-Match`` on the ETag, the ``VersionId`` when
the ItemReader names one), then the parsing path's own code (:meth:`CsvRecords.json_blocks`,
:class:`JsonLines` and the depth check) and its batch envelope; a CSV range of plain one-line
records only is formatted whole by :func:`plain_json_items`, which answers what the parser
would. The text is the same byte for byte (tests/integration/readers/test_ranges.py compares
both paths over tricky files, tests/unit/readers/test_csv_plain_items.py the two CSV ways).

Counting is exact: a CSV block of whole lines without a quote, a backslash, a ``\\r`` or a
blank line, and a JSONL block without a blank line, hold exactly one record per line and are
counted with ``bytes.count`` (in C); any other CSV block, and the FIRST_ROW header, goes
through the parser's own position machinery (:meth:`CsvRecords.record_ends`) until a record
ends exactly at the end of a block (blocks are about 64 KiB); any other JSONL block is read
line by line with the JSONL reader's rule (a line ``bytes.strip`` leaves empty is no record).
So quoted newlines, escapes, CRLF/CR, blank lines, a BOM, short and long rows all count as the
parser counts them, and the cursor (offset, line, header) after each range is the parser's.

A range descriptor is stored where a child's input text would be, marked by a prefix no JSON
text starts with (:func:`is_range`); the worker writes the resolved text over it before the
child runs (``ChildLedger.keep_inputs``), so everything that reads a child's input later (the
result writer, DescribeExecution, redrive, a hosted nested child) reads the real text.
Decisions in docs/decisions.md ("children read their own byte ranges" and the two rows after).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.asl import (
    CsvHeaderLocation,
    InputType,
    ItemReaderFailed,
    ItemReaderRequest,
    ReaderTransformation,
    StatesError,
)
from orchestrator.jsontext import batch_of_joined, batch_of_values, batch_text, dumps
from orchestrator.readers._base import Item, s3_source
from orchestrator.readers._csv import DELIMITERS, MAX_RECORD_BYTES, CsvRecords, plain_json_items
from orchestrator.readers._depth import check_item
from orchestrator.readers._json import JsonLines
from orchestrator.readers._s3 import compression_of, describe, iter_object

#: Batches of fewer items keep the parsing path (a range GET per child costs more than it saves).
MIN_BATCH_ITEMS = 32

#: What a range descriptor starts with (no JSON text starts with ``@``).
MARK = "@range:"

_GET_OBJECT = "arn:aws:states:::s3:getObject"
_SLOW = (b'"', b"\\", b"\r", b"\n\n")
#: A JSONL line that ``bytes.strip`` leaves empty.
_JSONL_BLANK = re.compile(rb"(?m)^[ \t\r\x0b\x0c]*$")


def is_range(text: str | None) -> bool:
    """Whether a stored child input is a range descriptor (not resolved yet)."""
    return text is not None and text.startswith(MARK)


def eligible(reader: ItemReaderRequest | None, *, max_items_per_batch: int | None,
             max_bytes_per_batch: int | None, item_selector: Any) -> bool:
    """Whether a Map Run's children can read their own ranges: one plain (uncompressed) CSV
    or JSONL object, batches of at least :data:`MIN_BATCH_ITEMS` items bounded by count only, no
    ItemSelector. Any ReaderConfig field this module does not apply exactly keeps the
    parsing path."""
    if reader is None or reader.resource != _GET_OBJECT or item_selector is not None:
        return False
    if not max_items_per_batch or max_items_per_batch < MIN_BATCH_ITEMS \
            or max_bytes_per_batch is not None:
        return False
    config = reader.config
    params = reader.parameters
    key = params.get("Key")
    return (config.input_type in (InputType.CSV, InputType.JSONL)
            and config.transformation is ReaderTransformation.NONE
            and config.manifest_type is None and config.items_pointer is None
            and isinstance(params.get("Bucket"), str) and bool(params.get("Bucket"))
            and isinstance(key, str) and bool(key) and compression_of(key) is None
            and set(params) <= {"Bucket", "Key", "VersionId", "ExpectedBucketOwner"})


def readable(s3: Any, texts: Sequence[str | None]) -> list[str | None]:
    """Stored child inputs as whoever reads them later shows them: a descriptor left
    unresolved (its child never ran: aborted before it started, or its range could not be
    read) is read now (one GET per run of adjacent ranges), or ``None`` (shown as ``null``)
    when it cannot be."""
    ranges = [text for text in texts if text is not None and is_range(text)]
    if not ranges:
        return list(texts)
    found = iter(resolve_all(s3, ranges))
    out: list[str | None] = []
    for text in texts:
        if text is not None and is_range(text):
            resolved = next(found)
            out.append(resolved if isinstance(resolved, str) else None)
        else:
            out.append(text)
    return out


@dataclass(frozen=True, slots=True)
class RangeInput:
    """One child's input as a byte range ``[start, stop)`` of a CSV or JSONL object."""

    bucket: str
    key: str
    etag: str | None
    version_id: str | None
    owner: str | None
    start: int
    stop: int
    #: Physical lines before ``start`` (line numbers in causes).
    line: int
    items: int
    #: CSV: the header and the CSVDelimiter name (None for JSONL).
    headers: list[str] | None
    delimiter: str | None
    #: The batch envelope's tail (BatchInput already evaluated), :func:`batch_suffix`.
    suffix: str
    #: ``CSV`` or ``JSONL``.
    input_type: str = "CSV"
    #: Dataset index of the range's first item (named when a JSONL item nests too deeply).
    first_index: int = 0

    def to_text(self) -> str:
        """The stored form: :data:`MARK` and compact JSON."""
        return MARK + dumps([self.bucket, self.key, self.etag, self.version_id, self.owner,
                             self.start, self.stop, self.line, self.items, self.headers,
                             self.delimiter, self.suffix, self.input_type, self.first_index])

    @classmethod
    def of_text(cls, text: str) -> RangeInput:
        """Inverse of :meth:`to_text`."""
        (bucket, key, etag, version_id, owner, start, stop, line, items, headers, delimiter,
         suffix, input_type, first_index) = json.loads(text[len(MARK):])
        return cls(bucket, key, etag, version_id, owner, int(start), int(stop), int(line),
                   int(items), headers, delimiter, suffix, input_type, int(first_index))

    @property
    def where(self) -> str:
        """``s3://bucket/key`` for causes."""
        return describe(self.bucket, self.key)

    @property
    def span(self) -> str:
        """Where the range is, for causes."""
        return f"bytes {self.start}-{self.stop - 1} from line {self.line + 1}"


def resolve(s3: Any, text: str) -> str:
    """The child input a range descriptor stands for, read from S3 (a worker's side).

    Raises:
        ItemReaderFailed: the object is gone or changed (``If-Match``), S3 fails, a row does
            not parse, or the range no longer holds the planned number of records; the cause
            names the object, the first line and the byte offset.
    """
    result = resolve_all(s3, [text])[0]
    if isinstance(result, StatesError):
        raise result
    return result


def resolve_all(s3: Any, texts: Sequence[str]) -> list[str | StatesError]:
    """:func:`resolve` for the range children of one message, with one GET per run of
    adjacent ranges of one object (a message's children are usually consecutive): a GET
    costs more than parsing a thousand rows. Each child gets its text or its own failure."""
    ranges = [RangeInput.of_text(text) for text in texts]
    out: list[str | StatesError] = []
    group: list[RangeInput] = []
    for r in ranges:
        if group and not _adjacent(group[-1], r, group[0]):
            out += _resolve_group(s3, group)
            group = []
        group.append(r)
    if group:
        out += _resolve_group(s3, group)
    return out


#: Bytes one GET of adjacent ranges reads at most.
MAX_GROUP_BYTES = 64 * 1024 * 1024


def _adjacent(last: RangeInput, r: RangeInput, first: RangeInput) -> bool:
    return (r.start == last.stop and r.stop - first.start <= MAX_GROUP_BYTES
            and (r.bucket, r.key, r.etag, r.version_id, r.owner)
            == (last.bucket, last.key, last.etag, last.version_id, last.owner))


def _resolve_group(s3: Any, group: list[RangeInput]) -> list[str | StatesError]:
    first, last = group[0], group[-1]
    try:
        data = b"".join(iter_object(s3, first.bucket, first.key, version_id=first.version_id,
                                    expected_owner=first.owner, if_match=first.etag,
                                    start=first.start, stop=last.stop))
    except StatesError as exc:
        return [ItemReaderFailed(f"{exc.cause} (reading {r.span})") for r in group]
    out: list[str | StatesError] = []
    for r in group:
        try:
            out.append(_build(r, data[r.start - first.start:r.stop - first.start]))
        except StatesError as exc:
            out.append(exc)
    return out


def _build(r: RangeInput, data: bytes) -> str:
    """The child input from the bytes of its range (the parsing path's code and envelope)."""
    if r.input_type == InputType.JSONL.value:
        values = list(JsonLines([data], where=r.where, offset=r.start, line=r.line))
        source = s3_source(r.bucket, r.key)
        for number, value in enumerate(values):
            check_item(Item(r.first_index + number, value, source))
        _check_count(r, len(values), data)
        return batch_of_values(values, r.suffix)
    assert r.delimiter is not None and r.headers is not None
    plain = plain_json_items(data, r.headers, DELIMITERS[r.delimiter])
    if plain is not None:
        joined, found = plain
        _check_count(r, found, data)
        return batch_of_joined(joined, r.suffix)
    records = CsvRecords([data], delimiter=r.delimiter, header_location=None,
                         headers=r.headers, where=r.where, offset=r.start, line=r.line)
    texts: list[str] = []
    for block in records.json_blocks(r.items + 1):
        texts.extend(block)
    _check_count(r, len(texts), data)
    return batch_text(texts, r.suffix)


def _check_count(r: RangeInput, found: int, data: bytes) -> None:
    if found != r.items or len(data) != r.stop - r.start:
        raise ItemReaderFailed(
            f"The {r.input_type} object {r.where} changed while the Map Run read it: {r.span} "
            f"hold {found} records, {r.items} were planned.")


@dataclass(frozen=True, slots=True)
class Piece:
    """A planned range: ``items`` records in ``[start, stop)``, the first after ``line`` lines."""

    start: int
    stop: int
    line: int
    items: int


@dataclass(slots=True)
class _Open:
    """The piece being planned: where it starts, its records so far, what MaxItems leaves."""

    every: int
    left: int | None
    start: int
    first: int
    count: int = 0

    @property
    def room(self) -> int:
        """Records the piece may still take."""
        return (self.every if self.left is None else min(self.every, self.left)) - self.count

    @property
    def done(self) -> bool:
        """Whether MaxItems is reached."""
        return self.left == 0

    def close(self, stop: int, line: int) -> Piece:
        """The piece, ending at ``stop`` (after ``line`` lines); the next one opens there."""
        piece = Piece(self.start, stop, self.first, self.count)
        if self.left is not None:
            self.left -= self.count
        self.start, self.first, self.count = stop, line, 0
        return piece


class RangePlanner:
    """Finds the byte offset after every ``every`` records of a CSV or JSONL object, exactly.

    Args:
        s3: a boto3 S3 client.
        reader: the run's ItemReader (:func:`eligible`).
        cursor: a value of :meth:`cursor` to resume after (empty: from the start).
    """

    def __init__(self, s3: Any, reader: ItemReaderRequest,
                 cursor: Mapping[str, Any] | None) -> None:
        cursor = cursor or {}
        params = reader.parameters
        config = reader.config
        self.bucket: str = params["Bucket"]
        self.key: str = params["Key"]
        self.version_id: str | None = params.get("VersionId")
        self.owner: str | None = params.get("ExpectedBucketOwner")
        self.where = describe(self.bucket, self.key)
        self.jsonl = config.input_type is InputType.JSONL
        self.delimiter: str | None = None
        self.headers: list[str] | None = None
        self._location = config.csv_header_location
        if not self.jsonl:
            self.delimiter = config.csv_delimiter.value
            headers = cursor.get("headers")
            if headers is None and config.csv_header_location is CsvHeaderLocation.GIVEN:
                headers = list(config.csv_headers or [])
            self.headers = headers
            # The parser's own checks of the configuration (delimiter, GIVEN headers,
            # duplicates).
            CsvRecords(iter(()), delimiter=self.delimiter, header_location=self._location.value,
                       headers=headers, where=self.where)
        self.index = int(cursor.get("index", 0))
        self.offset = int(cursor.get("offset", 0))
        self.line = int(cursor.get("line", 0))
        self._meta: dict[str, Any] = {"ETag": cursor.get("etag")}
        self._s3 = s3
        self._gen: Generator[bytes, None, None] | None = None

    @property
    def etag(self) -> str | None:
        """The planned object's ETag (known once the first GET answered)."""
        etag: str | None = self._meta.get("ETag")
        return etag

    def cursor(self) -> dict[str, Any]:
        """The position after the last piece yielded (``ranges``: this Map Run's path)."""
        return {"ranges": True, "index": self.index, "etag": self.etag, "offset": self.offset,
                "line": self.line, "headers": self.headers}

    def descriptor(self, piece: Piece, suffix: str) -> RangeInput:
        """The child input of ``piece`` (the last piece yielded)."""
        return RangeInput(self.bucket, self.key, self.etag, self.version_id, self.owner,
                          piece.start, piece.stop, piece.line, piece.items, self.headers,
                          self.delimiter, suffix,
                          InputType.JSONL.value if self.jsonl else InputType.CSV.value,
                          self.index - piece.items)

    def _one_per_line(self, block: bytes) -> bool:
        """Whether every line of ``block`` is exactly one record (counted in C)."""
        if self.jsonl:
            # A blank line (whitespace only, as ``bytes.strip`` sees it) is no record.
            return _JSONL_BLANK.search(block, 0, len(block) - block.endswith(b"\n")) is None
        return self.headers is not None and not block.startswith(b"\n") \
            and not any(mark in block for mark in _SLOW)

    def close(self) -> None:
        """Stop reading."""
        if self._gen is not None:
            self._gen.close()

    def pieces(self, every: int, limit: int | None = None) -> Iterator[Piece]:
        """Pieces of ``every`` records (the last may be shorter), at most ``limit`` records in
        all; :meth:`cursor` is right after each piece when it is yielded."""
        chunks = iter_object(self._s3, self.bucket, self.key, version_id=self.version_id,
                             expected_owner=self.owner, if_match=self.etag, start=self.offset,
                             meta=self._meta)
        blocks = self._gen = self._blocks(chunks)
        piece = _Open(every, limit, self.offset, self.line)
        # Where reading is: the byte offset and the lines before it.
        pos, line = self.offset, self.line
        block = next(blocks, None)
        while block is not None and not piece.done:
            if self._one_per_line(block):
                # One record per line: cut every ``every`` records with C-level counting.
                lines = block.count(b"\n") + (not block.endswith(b"\n"))
                at = 0
                while (want := piece.room) <= lines:
                    at = _after_lines(block, at, want)
                    lines -= want
                    piece.count += want
                    line += want
                    yield self._cut(piece.close(pos + at, line), line)
                    if piece.done:
                        return
                piece.count += lines
                line += lines
                pos += len(block)
                block = next(blocks, None)
                continue
            if self.jsonl:
                # JsonLines' own rule: one record per line that is not blank.
                parts = block.split(b"\n")
                ends = block.endswith(b"\n")
                if ends:
                    parts.pop()
                for number, raw in enumerate(parts):
                    pos += len(raw) + (ends or number < len(parts) - 1)
                    line += 1
                    if raw.strip():
                        piece.count += 1
                        if not piece.room:
                            yield self._cut(piece.close(pos, line), line)
                            if piece.done:
                                return
                block = next(blocks, None)
                continue
            # The parser's own machinery, from ``pos`` until a record ends where a block ends.
            fed = [pos]

            def source(head: bytes = block) -> Iterator[bytes]:
                fed[0] += len(head)
                yield head
                for more in blocks:
                    fed[0] += len(more)
                    yield more

            records = CsvRecords(source(), delimiter=self.delimiter,
                                 header_location=self._location.value, headers=self.headers,
                                 where=self.where, offset=pos, line=line)
            block = None
            for data in records.record_ends():
                where = records.position()
                pos, line = where["offset"], where["line"]
                if not data:
                    # The FIRST_ROW header, read once here: ranges start after it.
                    self.headers = records.headers
                    piece.start, piece.first = pos, line
                    self._advance(0, pos, line)
                else:
                    piece.count += 1
                    if not piece.room:
                        yield self._cut(piece.close(pos, line), line)
                        if piece.done:
                            return
                if pos == fed[0]:
                    # A record ended where the bytes read so far end: count in C again.
                    block = next(blocks, None)
                    break
        if piece.count and not piece.done:
            yield self._cut(piece.close(pos, line), line)

    def _cut(self, piece: Piece, line: int) -> Piece:
        """Move the cursor after ``piece``."""
        self._advance(piece.items, piece.stop, line)
        return piece

    def _advance(self, items: int, offset: int, line: int) -> None:
        self.index += items
        self.offset = offset
        self.line = line

    def _blocks(self, chunks: Iterator[bytes]) -> Generator[bytes, None, None]:
        """The object's bytes cut after the last newline of each chunk (whole lines)."""
        carry = b""
        offset = self.offset
        line = self.line
        for chunk in chunks:
            if not chunk:
                continue
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                if len(carry) > MAX_RECORD_BYTES:
                    # The parsers' own causes (readers/_csv.py, readers/_json.py).
                    raise ItemReaderFailed(
                        f"A JSONL line of {self.where} at line {line + 1} is larger than "
                        f"{MAX_RECORD_BYTES} bytes." if self.jsonl else
                        f"A CSV row of {self.where} at line {line + 1} "
                        f"(byte offset {offset}) is larger than {MAX_RECORD_BYTES} bytes.")
                continue
            carry = data[cut:]
            block = data[:cut] if carry else data
            offset += len(block)
            line += block.count(b"\n")
            yield from _pieces_of(block)
        if carry:
            yield carry


#: Blocks are cut to about this size at line ends: a block the parser must read (a quote, the
#: header) costs parsing only that much before counting in C resumes.
BLOCK_BYTES = 64 * 1024


def _pieces_of(block: bytes) -> Iterator[bytes]:
    """``block`` (whole lines) cut at line ends into parts of about :data:`BLOCK_BYTES`."""
    if len(block) <= BLOCK_BYTES:
        yield block
        return
    start = 0
    end = len(block)
    while start < end:
        cut = block.rfind(b"\n", start, start + BLOCK_BYTES) + 1
        if cut <= start:  # a line longer than a part: up to its end
            cut = block.find(b"\n", start + BLOCK_BYTES) + 1 or end
        yield block[start:cut]
        start = cut


def _after_lines(data: bytes, pos: int, k: int) -> int:
    """The offset right after the ``k``-th line end at or after ``pos`` (the end of ``data``
    when its last line has none), found with C-level counting."""
    end = len(data)
    total = data.count(b"\n", pos)
    if total < k:
        return end  # the last line, without a line end
    avg = max(1, (end - pos) // max(1, total))
    while True:
        guess = min(end, pos + k * avg + avg)
        n = data.count(b"\n", pos, guess)
        if n == k:
            return data.rfind(b"\n", pos, guess) + 1
        if n < k:
            pos, k = guess, k - n
        elif avg > 1:
            avg //= 2
        else:
            for _ in range(k):
                pos = data.index(b"\n", pos) + 1
            return pos

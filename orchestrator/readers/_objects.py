"""Items of one S3 object parsed as CSV, JSON or JSONL (``s3:getObject`` and friends).

Resume: CSV and JSONL cursors hold the byte offset after the last record (in the
decompressed stream), the physical line count and, for CSV, the header; a resumed
reader asks S3 for ``Range: bytes={offset}-`` and never re-reads what it already
passed (compressed objects are re-streamed and the prefix discarded, see ``_s3``).
A JSON array is re-parsed and the first ``done`` elements skipped. The object's ETag
is kept in the cursor and sent as ``If-Match`` on resume, so a replaced object fails
loudly instead of yielding a mix of two versions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from orchestrator.asl import CsvHeaderLocation, InputType, ItemReaderFailed, ReaderConfig
from orchestrator.readers._base import Item, Reader, s3_source
from orchestrator.readers._csv import CsvRecords
from orchestrator.readers._json import JsonArrayItems, JsonLines
from orchestrator.readers._s3 import describe, iter_object

#: The input types one object is parsed as here (PARQUET: ``_parquet``).
INPUT_TYPES = (InputType.CSV, InputType.JSON, InputType.JSONL)


def open_object(s3: Any, bucket: str, key: str, **options: Any) -> ObjectItems:
    """The reader of one object for ``options["input_type"]``: ObjectItems, or ParquetItems.

    PARQUET needs the optional dependency pyarrow (``pip install 'stepmap[parquet]'``);
    without it the Map Run fails with a cause that says so.
    """
    if options.get("input_type") is not InputType.PARQUET:
        return ObjectItems(s3, bucket, key, **options)
    try:
        from orchestrator.readers._parquet import ParquetItems
    except ImportError as exc:
        raise ItemReaderFailed(
            f"Cannot read {describe(bucket, key)}: InputType PARQUET needs pyarrow, which is "
            f"not installed ({exc}); install the 'parquet' extra of stepmap."
        ) from None
    return ParquetItems(s3, bucket, key, **options)


class ObjectItems(Reader):
    """Items of one object, parsed as ``input_type``.

    Args:
        s3: a boto3 S3 client.
        bucket: bucket of the object.
        key: key of the object.
        input_type: ``CSV``, ``JSON`` or ``JSONL``.
        config: the typed ``ReaderConfig`` (CSV header location/headers/delimiter,
            ItemsPointer).
        index: dataset index of the first item this reader yields.
        state: this object's part of a cursor previously returned by :meth:`cursor`.
        version_id: optional ``VersionId``.
        expected_owner: optional ``ExpectedBucketOwner``.
        headers: CSV headers that override the config (S3 inventory ``fileSchema``).
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        *,
        input_type: InputType,
        config: ReaderConfig,
        index: int = 0,
        state: Mapping[str, Any] | None = None,
        version_id: str | None = None,
        expected_owner: str | None = None,
        headers: Sequence[str] | None = None,
    ) -> None:
        if input_type not in INPUT_TYPES:
            raise ItemReaderFailed(
                f"Cannot read {describe(bucket, key)}: unsupported InputType "
                f"{input_type.value!r}; expected one of "
                f"{', '.join(t.value for t in INPUT_TYPES)}."
            )
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._type = input_type
        self.nested_items = input_type is not InputType.CSV  # a CSV row is a flat object of strings
        self._config = config
        self._next = index
        self._state = dict(state or {})
        self._version_id = version_id
        self._owner = expected_owner
        self._headers = headers
        self._meta: dict[str, Any] = {"ETag": self._state.get("etag")}
        self._parser: Any = None

    @property
    def next_index(self) -> int:
        """Index the next item will get."""
        return self._next

    def cursor(self) -> dict[str, Any]:
        """Position after the last item: index plus the format's resume fields."""
        cursor: dict[str, Any] = {"index": self._next, "etag": self._meta.get("ETag")}
        if self._type is InputType.JSON:
            cursor["done"] = self._state.get("done", 0) + self._yielded
        elif self._parser is not None:
            cursor.update(self._parser.position())
        else:
            cursor.update({k: v for k, v in self._state.items() if k not in cursor})
        return cursor

    _yielded = 0

    @property
    def writes_json_texts(self) -> bool:
        """Whether :meth:`json_blocks` can give the items as JSON texts (CSV rows)."""
        return self._type is InputType.CSV and self._gen is None

    def json_blocks(self, rows: int) -> Iterator[list[str]]:
        """The items as lists of compact JSON texts instead of :class:`Item` values (CSV).

        Same items, order and indexes as iterating; :meth:`cursor` is exact after each list.
        For a consumer that needs only the JSON of each item (no ItemSelector).
        """
        if not self.writes_json_texts:
            raise ValueError("json_blocks() is for a CSV reader that has not started")
        self._gen = gen = self._blocks(rows)
        return gen

    def _blocks(self, rows: int) -> Iterator[list[str]]:
        records = self._records()
        assert isinstance(records, CsvRecords)
        for block in records.json_blocks(rows):
            self._next += len(block)
            yield block

    def _records(self) -> Any:
        state = self._state
        where = describe(self._bucket, self._key)
        offset = int(state.get("offset", 0)) if self._type is not InputType.JSON else 0
        chunks = iter_object(
            self._s3,
            self._bucket,
            self._key,
            version_id=self._version_id,
            expected_owner=self._owner,
            if_match=state.get("etag"),
            start=offset,
            meta=self._meta,
        )
        line = int(state.get("line", 0))
        records: Any
        if self._type is InputType.CSV:
            config = self._config
            headers = self._headers or state.get("headers")
            location = CsvHeaderLocation.GIVEN if self._headers else config.csv_header_location
            if location is CsvHeaderLocation.GIVEN and not headers:
                headers = config.csv_headers
            self._parser = records = CsvRecords(
                chunks,
                delimiter=config.csv_delimiter.value,
                header_location=location,
                headers=headers,
                where=where,
                offset=offset,
                line=line,
            )
        elif self._type is InputType.JSONL:
            self._parser = records = JsonLines(chunks, where=where, offset=offset, line=line)
        else:
            records = JsonArrayItems(chunks, where=where, pointer=self._config.items_pointer)
            done = int(state.get("done", 0))
            if done:
                records = islice(records, done, None)
        return records

    def _generate(self) -> Iterator[Item]:
        records = self._records()
        source = s3_source(self._bucket, self._key)
        if self._type is InputType.JSON:
            for value in records:
                index = self._next
                self._next = index + 1
                self._yielded += 1
                yield Item(index, value, source)
            return
        for value in records:
            index = self._next
            self._next = index + 1
            yield Item(index, value, source)

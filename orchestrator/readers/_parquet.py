"""Items of a Parquet object (``InputType: PARQUET``), streamed one row group at a time.

Parquet keeps its schema and row-group directory in a footer at the end of the file, so the
object is read through ranged GETs (:class:`S3RangeFile`, ``If-Match`` on the first ETag):
the footer first, then the column chunks of one row group at a time. Memory is bounded by
one row group (arrow buffers) plus one batch of :data:`BATCH_ROWS` Python items, never by the
file. Limits (spec §6): footer at most 5 MiB, row group at most 256 MiB (uncompressed), else
``States.ItemReaderFailed`` naming the file and the row group.

Item shape: one JSON object per row, column name -> value. Decisions on unverified points
(AWS documents only "one object per row"): integers, floats, booleans, strings and nulls
map to JSON as they are; lists become arrays, structs objects, maps objects keyed by the
map key's text; timestamps become epoch milliseconds (integers); dates and times ISO-8601
strings; decimals strings (no precision lost); binary UTF-8 text when it decodes, else
base64. ``VersionId`` is refused for PARQUET, as on AWS (spec §2.2).

Resume: the cursor holds the row group and the rows already taken from it.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestrator.asl import InputType, ItemReaderFailed, ReaderConfig
from orchestrator.readers._base import Item, s3_source
from orchestrator.readers._objects import ObjectItems
from orchestrator.readers._s3 import describe, s3_errors

MAX_FOOTER_BYTES = 5 * 1024 * 1024
MAX_ROW_GROUP_BYTES = 256 * 1024 * 1024
#: Rows turned into Python items at a time (bounds the Python objects alive at once).
BATCH_ROWS = 4096


class S3RangeFile(io.RawIOBase):
    """A read-only, seekable file over one S3 object, each read one ranged GET."""

    def __init__(
        self, s3: Any, bucket: str, key: str, *, expected_owner: str | None = None,
        if_match: str | None = None,
    ) -> None:
        super().__init__()
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if expected_owner:
            self._params["ExpectedBucketOwner"] = expected_owner
        try:
            with s3_errors(bucket, key):
                head = s3.head_object(**self._params, **({"IfMatch": if_match} if if_match else {}))
        except ItemReaderFailed as exc:
            if if_match and "412" in exc.cause:
                raise ItemReaderFailed(
                    f"Failed to read {describe(bucket, key)}: PreconditionFailed: the object "
                    f"changed since reading began (ETag was {if_match})"
                ) from exc
            raise
        self.etag: str | None = head.get("ETag")
        self.size = int(head["ContentLength"])
        if self.etag:
            self._params["IfMatch"] = self.etag
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    requests = 0  # GETs made (for tests and the benchmark)

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        if end <= self._position:
            return b""
        with s3_errors(self._bucket, self._key):
            response = self._s3.get_object(
                **self._params, Range=f"bytes={self._position}-{end - 1}"
            )
            data: bytes = response["Body"].read()
        self.requests += 1
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


Convert = Callable[[Any], Any]


def json_value(value: Any) -> Any:
    """A scalar of ``to_pylist()`` as JSON data (see the module docstring for the rules)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp() * 1000)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return int(value / dt.timedelta(milliseconds=1))
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    return str(value)


def _identity(value: Any) -> Any:
    return value


def converter(kind: pa.DataType) -> Convert:
    """A function turning one ``to_pylist()`` value of arrow type ``kind`` into JSON data."""
    if pa.types.is_map(kind):
        key, item = converter(kind.key_type), converter(kind.item_type)
        return lambda v: None if v is None else {_text(key(k)): item(x) for k, x in v}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        element = converter(kind.value_type)
        return lambda v: None if v is None else [element(x) for x in v]
    if pa.types.is_struct(kind):
        fields = [(kind.field(i).name, converter(kind.field(i).type))
                  for i in range(kind.num_fields)]
        return lambda v: None if v is None else {name: f(v.get(name)) for name, f in fields}
    plain = (pa.types.is_integer(kind) or pa.types.is_floating(kind)
             or pa.types.is_boolean(kind) or pa.types.is_string(kind)
             or pa.types.is_large_string(kind) or pa.types.is_null(kind))
    return _identity if plain else json_value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class ParquetItems(ObjectItems):
    """Items of one Parquet object; same constructor and cursor contract as ObjectItems."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        *,
        input_type: InputType = InputType.PARQUET,
        config: ReaderConfig | None = None,
        index: int = 0,
        state: Mapping[str, Any] | None = None,
        version_id: str | None = None,
        expected_owner: str | None = None,
        headers: Any = None,
    ) -> None:
        if version_id:
            raise ItemReaderFailed(
                f"Cannot read {describe(bucket, key)}: VersionId is not supported for "
                "InputType PARQUET."
            )
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._type = InputType.PARQUET
        self._config = config or ReaderConfig(input_type=InputType.PARQUET)
        self._next = index
        self._state = dict(state or {})
        self._owner = expected_owner
        self._meta: dict[str, Any] = {"ETag": self._state.get("etag")}
        self._group = int(self._state.get("group", 0))
        self._row = int(self._state.get("row", 0))

    def cursor(self) -> dict[str, Any]:
        """``{"index", "etag", "group": row group, "row": rows taken from it}``."""
        return {"index": self._next, "etag": self._meta.get("ETag"), "group": self._group,
                "row": self._row}

    def _open(self) -> tuple[S3RangeFile, Any]:
        where = describe(self._bucket, self._key)
        source = S3RangeFile(self._s3, self._bucket, self._key, expected_owner=self._owner,
                             if_match=self._meta.get("ETag"))
        self._meta["ETag"] = source.etag
        try:
            parquet = pq.ParquetFile(source)
        except (pa.ArrowException, OSError, ValueError) as exc:
            if isinstance(exc.__cause__, ItemReaderFailed):
                raise exc.__cause__ from None
            raise ItemReaderFailed(f"Cannot read {where} as Parquet: {exc}") from exc
        footer = parquet.metadata.serialized_size
        if footer > MAX_FOOTER_BYTES:
            raise ItemReaderFailed(
                f"Cannot read {where}: its Parquet footer is {footer} bytes, more than the "
                f"{MAX_FOOTER_BYTES} allowed."
            )
        return source, parquet

    def _generate(self) -> Iterator[Item]:
        where = describe(self._bucket, self._key)
        source, parquet = self._open()
        item_source = s3_source(self._bucket, self._key)
        schema = parquet.schema_arrow
        convert = [(field.name, converter(field.type)) for field in schema]
        as_is = all(f is _identity for _, f in convert)  # plain columns: rows are JSON already
        try:
            for group in range(self._group, parquet.metadata.num_row_groups):
                size = parquet.metadata.row_group(group).total_byte_size
                if size > MAX_ROW_GROUP_BYTES:
                    raise ItemReaderFailed(
                        f"Cannot read {where}: row group {group} is {size} bytes, more than "
                        f"the {MAX_ROW_GROUP_BYTES} allowed."
                    )
                if group != self._group:
                    self._group, self._row = group, 0
                skip = self._row
                for rows in self._batches(parquet, group, where):
                    if skip >= len(rows):
                        skip -= len(rows)
                        continue
                    for row in rows[skip:]:
                        index = self._next
                        self._next = index + 1
                        self._row += 1
                        value = row if as_is else {k: f(row[k]) for k, f in convert}
                        yield Item(index, value, item_source)
                    skip = 0
            self._group, self._row = parquet.metadata.num_row_groups, 0
        finally:
            source.close()

    def _batches(self, parquet: Any, group: int, where: str) -> Iterator[list[dict[str, Any]]]:
        """The rows of one row group as lists of dicts, :data:`BATCH_ROWS` at a time."""
        batches = parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group])
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as exc:
                if isinstance(exc.__cause__, ItemReaderFailed):
                    raise exc.__cause__ from None
                raise ItemReaderFailed(
                    f"Cannot read row group {group} of {where} as Parquet: {exc}"
                ) from exc
            yield batch.to_pylist()

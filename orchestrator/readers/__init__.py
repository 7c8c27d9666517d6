"""Item readers of the Distributed Map (spec §2.2, §2.3): streaming, resumable.

Use :func:`open_items` with the resolved ``ItemReader`` (or None and the state-input
items) and iterate the returned :class:`ItemStream`; :meth:`ItemStream.cursor` gives a
JSON-serialisable position that :func:`open_items` accepts back to resume right after
the last item yielded. Every failure is ``States.ItemReaderFailed``.

Sources: state input (array or object), ``s3:getObject`` with ``InputType`` CSV, JSON,
JSONL or MANIFEST / ``ManifestType`` S3_INVENTORY or ATHENA_DATA, and
``s3:listObjectsV2`` with ``Transformation`` NONE or LOAD_AND_FLATTEN. PARQUET (also in
ATHENA_DATA manifests and LOAD_AND_FLATTEN) is read by ``_parquet`` when pyarrow is
installed (the ``parquet`` extra), else it fails with a cause that says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import islice
from types import TracebackType
from typing import Any

from orchestrator.asl import (
    InputType,
    ItemReaderFailed,
    ItemReaderRequest,
    ManifestType,
    ReaderTransformation,
)
from orchestrator.readers._base import STATE_DATA, Item, Reader
from orchestrator.readers._depth import check_item
from orchestrator.readers._inline import InlineItems
from orchestrator.readers._listing import FlattenItems, ListingItems
from orchestrator.readers._manifests import ManifestItems
from orchestrator.readers._objects import ObjectItems, open_object

__all__ = ["MAX_ITEMS_CEILING", "STATE_DATA", "Item", "ItemStream", "open_items", "parquet_readable"]

#: Hard quota on items read by one Map Run (spec §6); larger MaxItems act as this cap.
MAX_ITEMS_CEILING = 100_000_000

def parquet_readable() -> bool:
    """Whether ``InputType: PARQUET`` can be read here (the optional pyarrow is installed)."""
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


_RESOURCE = re.compile(r"^arn:[a-z-]+:states:::s3:(getObject|listObjectsV2)$")


class ItemStream:
    """The items of one Map Run's dataset, in order, truncated to ``MaxItems``.

    Iterating returns the same underlying iterator each time, so a consumer may take a
    window of items, persist :meth:`cursor`, and continue later in the same process.
    """

    def __init__(self, reader: Reader, *, max_items: int | None, start_index: int) -> None:
        self._reader = reader
        self._iter: Iterator[Item] | None = None
        self._limit = None if not max_items else max(0, max_items - start_index)

    def __iter__(self) -> Iterator[Item]:
        if self._iter is None:
            inner: Iterator[Item] = (map(check_item, self._reader) if self._reader.nested_items
                                     else iter(self._reader))
            self._iter = inner if self._limit is None else islice(inner, self._limit)
        return self._iter

    def json_blocks(self, rows: int) -> Iterator[list[str]] | None:
        """The items as lists of up to ``rows`` compact JSON texts, when the source can write
        them directly (CSV); :meth:`cursor` is exact after each list.

        None when it cannot (then iterate the stream). Use one or the other, not both.
        """
        reader = self._reader
        if self._iter is not None or not isinstance(reader, ObjectItems) \
                or not reader.writes_json_texts:
            return None
        blocks = reader.json_blocks(rows)
        return blocks if self._limit is None else _truncated(blocks, self._limit)

    def cursor(self) -> dict[str, Any]:
        """JSON-serialisable position right after the last item yielded."""
        return self._reader.cursor()

    def close(self) -> None:
        """Stop reading and release any open S3 response."""
        self._reader.close()

    def __enter__(self) -> ItemStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _truncated(blocks: Iterator[list[str]], limit: int) -> Iterator[list[str]]:
    """The first ``limit`` texts of ``blocks`` (MaxItems), still in blocks."""
    for block in blocks:
        if len(block) >= limit:
            yield block[:limit]
            return
        limit -= len(block)
        yield block


def open_items(
    reader: ItemReaderRequest | None,
    items: Any,
    s3: Any,
    *,
    cursor: Mapping[str, Any] | None = None,
) -> ItemStream:
    """Open the item stream of a Distributed Map.

    Args:
        reader: the run's typed ``ItemReader`` (``Parameters`` with Bucket/Key/Prefix/
            VersionId/ExpectedBucketOwner, ``ReaderConfig`` with MaxItems resolved), or None
            to iterate ``items``.
        items: the state-input array or object selected by ItemsPath (when no reader).
        s3: a boto3 S3 client (unused for state input).
        cursor: a value from :meth:`ItemStream.cursor` to resume after.

    Returns:
        The stream; nothing is read from S3 until it is iterated.

    Raises:
        ItemReaderFailed: for an unusable configuration or items value. Read errors are
            raised while iterating.
    """
    cursor = dict(cursor or {})
    start = int(cursor.get("index", 0))
    if reader is None:
        return ItemStream(InlineItems(items, index=start), max_items=None, start_index=start)
    max_items = _max_items(reader.config.max_items)
    source = _s3_reader(reader, s3, cursor)
    return ItemStream(source, max_items=max_items, start_index=start)


def _max_items(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ItemReaderFailed(f"field MaxItems must be an integer, got {value!r}")
    if value < 0:
        # Cause observed on AWS for a negative MaxItemsPath value.
        raise ItemReaderFailed("field MaxItems must be positive")
    return min(value, MAX_ITEMS_CEILING) or None


def _s3_reader(reader: ItemReaderRequest, s3: Any, cursor: dict[str, Any]) -> Reader:
    resource = reader.resource
    match = _RESOURCE.match(resource)
    if match is None:
        raise ItemReaderFailed(
            f"Unsupported ItemReader Resource {resource!r}; expected "
            "arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2."
        )
    config = reader.config
    params = reader.parameters
    if not isinstance(params, Mapping):
        raise ItemReaderFailed(f"The ItemReader Parameters must be an object, got {params!r}.")
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise ItemReaderFailed("The ItemReader needs a Bucket (a non-empty string).")
    owner = params.get("ExpectedBucketOwner")
    input_type = config.input_type
    if match.group(1) == "listObjectsV2":
        prefix = params.get("Prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise ItemReaderFailed(f"The ItemReader Prefix must be a string, got {prefix!r}.")
        if config.transformation is ReaderTransformation.LOAD_AND_FLATTEN:
            if input_type is None:
                raise ItemReaderFailed("Transformation LOAD_AND_FLATTEN needs an InputType.")
            return FlattenItems(
                s3, bucket, prefix, config=config, cursor=cursor, expected_owner=owner
            )
        return ListingItems(
            s3, bucket, prefix, index=int(cursor.get("index", 0)),
            start_after=cursor.get("after"), expected_owner=owner,
        )
    key = params.get("Key")
    if not isinstance(key, str) or not key:
        raise ItemReaderFailed("The s3:getObject ItemReader needs a Key (a non-empty string).")
    manifest_type = config.manifest_type
    if manifest_type is ManifestType.S3_INVENTORY or (
        input_type is InputType.MANIFEST and manifest_type is None
    ):
        return ManifestItems(s3, bucket, key, cursor=cursor, expected_owner=owner)
    if manifest_type is ManifestType.ATHENA_DATA:
        if input_type not in (InputType.CSV, InputType.JSONL, InputType.PARQUET):
            shown = input_type.value if input_type is not None else None
            raise ItemReaderFailed(
                "ManifestType ATHENA_DATA needs InputType CSV, JSONL or PARQUET, "
                f"got {shown!r}."
            )
        return ManifestItems(
            s3, bucket, key, kind=manifest_type, config=config, cursor=cursor,
            expected_owner=owner,
        )
    if input_type is None:
        raise ItemReaderFailed("The s3:getObject ItemReader needs ReaderConfig.InputType.")
    return open_object(
        s3,
        bucket,
        key,
        input_type=input_type,
        config=config,
        index=int(cursor.get("index", 0)),
        state=cursor or None,
        version_id=params.get("VersionId"),
        expected_owner=owner,
    )

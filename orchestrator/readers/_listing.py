"""Items from ``s3:listObjectsV2``: object metadata (NONE) or their records (LOAD_AND_FLATTEN).

Every page of the listing is read (``ContinuationToken``), one page in memory at a
time. An item of the NONE transformation is, field order as AWS shows it::

    {"Etag": "\\"<md5>\\"", "Key": "...", "LastModified": <epoch seconds int>,
     "Size": <int>, "StorageClass": "STANDARD"}

with ``$$.Map.Item.Source`` = ``S3://{bucket}``. Zero-byte "folder" keys are items too.

Resume: the cursor keeps the last key yielded; the listing restarts with
``StartAfter`` = that key (S3 lists in key order), so nothing is listed twice.

LOAD_AND_FLATTEN opens each listed object in turn and yields its records parsed as
``InputType`` (source = that object). Decision (unverified): zero-byte objects are
skipped there, since an empty "folder" key holds no records and an empty JSON
document would otherwise fail the whole run. Its cursor is the current object's key
plus that object's own cursor; resuming finishes that object, then lists after it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from orchestrator.asl import ReaderConfig
from orchestrator.readers._base import Item, Reader, s3_source
from orchestrator.readers._objects import ObjectItems, open_object
from orchestrator.readers._s3 import s3_errors

#: ``MaxKeys`` per ListObjectsV2 call (S3's own maximum); tests lower it.
PAGE_SIZE = 1000


def list_objects(
    s3: Any,
    bucket: str,
    prefix: str | None,
    *,
    start_after: str | None = None,
    expected_owner: str | None = None,
    page_size: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the ``Contents`` entries of every page of a ListObjectsV2 listing.

    Raises:
        ItemReaderFailed: on any S3 error (cause names the bucket and prefix).
    """
    params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": page_size or PAGE_SIZE}
    if prefix:
        params["Prefix"] = prefix
    if start_after:
        params["StartAfter"] = start_after
    if expected_owner:
        params["ExpectedBucketOwner"] = expected_owner
    where = f"{prefix}*" if prefix else None
    while True:
        with s3_errors(bucket, where, action="list"):
            page = s3.list_objects_v2(**params)
        yield from page.get("Contents", ())
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return
        params.pop("StartAfter", None)
        params["ContinuationToken"] = token


def object_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The item AWS builds from one ListObjectsV2 ``Contents`` entry."""
    modified = entry["LastModified"]
    return {
        "Etag": entry["ETag"],
        "Key": entry["Key"],
        "LastModified": int(modified.timestamp()),
        "Size": int(entry["Size"]),
        "StorageClass": entry.get("StorageClass") or "STANDARD",
    }


class ListingItems(Reader):
    """One item per listed object (``Transformation`` NONE).

    Its items are flat (key, size, dates, ETag, storage class): no depth check needed.

    Args:
        s3: a boto3 S3 client.
        bucket: bucket to list.
        prefix: optional raw key prefix.
        index: index of the next item (resume).
        start_after: last key already yielded (resume).
        expected_owner: optional ``ExpectedBucketOwner``.
    """

    nested_items = False

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str | None,
        *,
        index: int = 0,
        start_after: str | None = None,
        expected_owner: str | None = None,
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self._next = index
        self._last = start_after
        self._owner = expected_owner

    def cursor(self) -> dict[str, Any]:
        """``{"index": n, "after": last key yielded}``."""
        return {"index": self._next, "after": self._last}

    def _generate(self) -> Iterator[Item]:
        source = s3_source(self._bucket)
        entries = list_objects(
            self._s3, self._bucket, self._prefix, start_after=self._last,
            expected_owner=self._owner,
        )
        for entry in entries:
            index = self._next
            self._next = index + 1
            self._last = entry["Key"]
            yield Item(index, object_item(entry), source)


class FlattenItems(Reader):
    """The records of every listed object (``Transformation`` LOAD_AND_FLATTEN).

    Args:
        s3: a boto3 S3 client.
        bucket: bucket to list.
        prefix: optional raw key prefix.
        config: the typed ``ReaderConfig`` (``InputType`` and its options).
        cursor: a cursor previously returned by :meth:`cursor`.
        expected_owner: optional ``ExpectedBucketOwner``.
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str | None,
        *,
        config: ReaderConfig,
        cursor: Mapping[str, Any] | None = None,
        expected_owner: str | None = None,
    ) -> None:
        cursor = cursor or {}
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self._config = config
        self._owner = expected_owner
        self._next = int(cursor.get("index", 0))
        self._key: str | None = cursor.get("key")
        self._inner_state: Mapping[str, Any] | None = cursor.get("inner")
        self._current: ObjectItems | None = None

    def cursor(self) -> dict[str, Any]:
        """``{"index", "key": object being read, "inner": that object's cursor}``."""
        if self._current is not None:
            inner = self._current.cursor()
            return {"index": inner["index"], "key": self._key, "inner": inner}
        return {"index": self._next, "key": self._key, "inner": self._inner_state}

    def _open(self, key: str, state: Mapping[str, Any] | None) -> ObjectItems:
        self._key = key
        self._current = open_object(
            self._s3,
            self._bucket,
            key,
            input_type=self._config.input_type,
            config=self._config,
            index=self._next,
            state=state,
            expected_owner=self._owner,
        )
        return self._current

    def _generate(self) -> Iterator[Item]:
        if self._key is not None and self._inner_state is not None:
            reader = self._open(self._key, self._inner_state)
            yield from reader
            self._next = reader.next_index
        entries = list_objects(
            self._s3, self._bucket, self._prefix, start_after=self._key,
            expected_owner=self._owner,
        )
        for entry in entries:
            if not entry.get("Size"):
                continue
            reader = self._open(entry["Key"], None)
            try:
                yield from reader
            finally:
                reader.close()
            self._next = reader.next_index

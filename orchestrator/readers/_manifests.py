"""Items of the files a manifest lists: S3 Inventory reports and Athena UNLOAD manifests.

S3 Inventory (``InputType: MANIFEST`` / ``ManifestType: S3_INVENTORY``): the ItemReader's
``Key`` is the inventory's ``manifest.json``. Its ``fileSchema``
(``"Bucket, Key, Size, LastModifiedDate"``) names the columns of the CSV data files
listed under ``files`` (gzip-compressed, no header row), which live in the bucket of
``destinationBucket`` (an ``arn:aws:s3:::name`` ARN). Each data row becomes an object
with those keys and **string** values (spec §2.2); only CSV inventories are supported,
as on AWS. ``$$.Map.Item.Source`` is the data file the row came from.

Athena (``ManifestType: ATHENA_DATA``): the ``Key`` is an UNLOAD ``*-manifest.csv``
holding one ``s3://bucket/key`` per line; each data file is parsed as ``InputType``
(CSV — Athena writes no header, so ``CSVHeaderLocation: GIVEN`` — JSONL or PARQUET) with
the rest of ``ReaderConfig``, compression by extension.

Resume: the cursor keeps the position in the file list and that file's own cursor;
the manifest is small and is read again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from orchestrator.asl import InputType, ItemReaderFailed, ManifestType, ReaderConfig
from orchestrator.readers._base import Item, Reader
from orchestrator.readers._objects import ObjectItems, open_object
from orchestrator.readers._s3 import describe, read_small_object

#: A manifest.json lists file names only; 64 MiB is far beyond any real one.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


def parse_inventory_manifest(
    data: bytes, bucket: str, key: str
) -> tuple[str, list[str], list[str]]:
    """Return ``(data bucket, column names, data file keys)`` of an inventory manifest.

    Raises:
        ItemReaderFailed: when the manifest is not JSON, not a CSV inventory, or lacks
            ``fileSchema``/``files``.
    """
    where = describe(bucket, key)
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise ItemReaderFailed(f"Cannot parse S3 inventory manifest {where}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise ItemReaderFailed(f"S3 inventory manifest {where} is not a JSON object.")
    file_format = manifest.get("fileFormat", "CSV")
    if str(file_format).upper() != "CSV":
        raise ItemReaderFailed(
            f"S3 inventory manifest {where} has fileFormat {file_format!r}; "
            "only CSV inventory reports are supported."
        )
    schema = manifest.get("fileSchema")
    files = manifest.get("files")
    if not isinstance(schema, str) or not isinstance(files, list):
        raise ItemReaderFailed(
            f"S3 inventory manifest {where} needs a 'fileSchema' string and a 'files' array."
        )
    columns = [name.strip() for name in schema.split(",")]
    destination = str(manifest.get("destinationBucket") or bucket)
    data_bucket = destination.rsplit(":", 1)[-1] if destination.startswith("arn:") else destination
    keys: list[str] = []
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ItemReaderFailed(
                f"S3 inventory manifest {where} has a 'files' entry without a 'key'."
            )
        keys.append(entry["key"])
    return data_bucket, columns, keys


def parse_athena_manifest(data: bytes, bucket: str, key: str) -> list[tuple[str, str]]:
    """Return the ``(bucket, key)`` of every data file an Athena UNLOAD manifest lists.

    Raises:
        ItemReaderFailed: when the manifest is not UTF-8 or a line is not an ``s3://`` URI.
    """
    where = describe(bucket, key)
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise ItemReaderFailed(f"Athena manifest {where} is not UTF-8 text.") from exc
    files: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        uri = line.strip()
        if not uri:
            continue
        data_bucket, data_key = "", ""
        if uri[:5].lower() == "s3://":
            data_bucket, _, data_key = uri[5:].partition("/")
        if not data_bucket or not data_key:
            raise ItemReaderFailed(
                f"Athena manifest {where} line {number} is not an s3://bucket/key URI: {uri!r}"
            )
        files.append((data_bucket, data_key))
    return files


class ManifestItems(Reader):
    """The items of every file a manifest lists, in manifest order.

    Args:
        s3: a boto3 S3 client.
        bucket: bucket of the manifest.
        key: key of the manifest.
        kind: ``S3_INVENTORY`` or ``ATHENA_DATA``.
        config: the typed ``ReaderConfig`` (Athena: InputType and CSV options).
        cursor: a cursor previously returned by :meth:`cursor`.
        expected_owner: optional ``ExpectedBucketOwner``.
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        *,
        kind: ManifestType = ManifestType.S3_INVENTORY,
        config: ReaderConfig | None = None,
        cursor: Mapping[str, Any] | None = None,
        expected_owner: str | None = None,
    ) -> None:
        cursor = cursor or {}
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._kind = kind
        self._config = config or ReaderConfig()
        self._owner = expected_owner
        self._next = int(cursor.get("index", 0))
        self._file = int(cursor.get("file", 0))
        self._inner_state: Mapping[str, Any] | None = cursor.get("inner")
        self._current: ObjectItems | None = None

    def cursor(self) -> dict[str, Any]:
        """``{"index", "file": position in files, "inner": that file's CSV cursor}``."""
        if self._current is not None:
            inner = self._current.cursor()
            return {"index": inner["index"], "file": self._file, "inner": inner}
        return {"index": self._next, "file": self._file, "inner": self._inner_state}

    def _generate(self) -> Iterator[Item]:
        raw = read_small_object(self._s3, self._bucket, self._key, limit=MAX_MANIFEST_BYTES)
        columns: list[str] | None = None
        input_type: InputType | None = InputType.CSV
        config = ReaderConfig(input_type=InputType.CSV)
        if self._kind is ManifestType.S3_INVENTORY:
            data_bucket, columns, keys = parse_inventory_manifest(raw, self._bucket, self._key)
            files = [(data_bucket, k) for k in keys]
        else:
            files = parse_athena_manifest(raw, self._bucket, self._key)
            input_type = self._config.input_type
            config = self._config
        state = self._inner_state
        for number in range(self._file, len(files)):
            self._file = number
            file_bucket, file_key = files[number]
            reader = self._current = open_object(
                self._s3,
                file_bucket,
                file_key,
                input_type=input_type,
                config=config,
                index=self._next,
                state=state,
                headers=columns,
            )
            state = None
            try:
                yield from reader
            finally:
                reader.close()
            self._next = reader.next_index

"""InputType PARQUET against the real S3 server: item shape, row groups, resume, errors."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestrator.asl import ItemReaderRequest
from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers import Item, open_items

Put = Callable[[str, bytes], str]


def parquet_bytes(table: pa.Table, row_group_size: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size, compression="snappy")
    return sink.getvalue()


def numbers(rows: int) -> pa.Table:
    return pa.table({"id": list(range(rows)), "name": [f"n{i}" for i in range(rows)]})


def reader_of(bucket: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": bucket, "Key": key, **extra},
            "ReaderConfig": {"InputType": "PARQUET"}}


def read_all(reader: dict[str, Any], s3: Any, cursor: dict[str, Any] | None = None) -> list[Item]:
    with open_items(ItemReaderRequest.of_asl(reader), None, s3, cursor=cursor) as stream:
        return list(stream)


def test_rows_become_objects_with_json_values(s3_client: Any, bucket: str, put: Put) -> None:
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "score": [1.5, None],
        "ok": [True, False],
        "tags": [["a", "b"], []],
        "where": [{"city": "Oslo", "zip": 150}, {"city": "Lima", "zip": None}],
        "at": pa.array([dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC), None],
                       pa.timestamp("ms", tz="UTC")),
        "day": [dt.date(2025, 1, 2), dt.date(2024, 12, 31)],
        "price": pa.array([decimal.Decimal("12.34"), decimal.Decimal("0.10")],
                          pa.decimal128(6, 2)),
        "attrs": pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int32())),
    })
    put("t.parquet", parquet_bytes(table, 10))
    items = read_all(reader_of(bucket, "t.parquet"), s3_client)
    assert [(i.index, i.source) for i in items] == [(0, f"S3://{bucket}/t.parquet"),
                                                    (1, f"S3://{bucket}/t.parquet")]
    assert items[0].value == {
        "id": 1, "score": 1.5, "ok": True, "tags": ["a", "b"],
        "where": {"city": "Oslo", "zip": 150}, "at": 1735787045000, "day": "2025-01-02",
        "price": "12.34", "attrs": {"k": 1},
    }
    assert items[1].value["score"] is None and items[1].value["at"] is None
    assert items[1].value["attrs"] == {}
    json.dumps([i.value for i in items])  # every value is JSON data


def test_row_groups_are_read_with_ranged_gets_and_resume_anywhere(
    recording_s3: Any, s3_client: Any, bucket: str, put: Put
) -> None:
    put("n.parquet", parquet_bytes(numbers(25), 10))  # row groups of 10, 10, 5
    reader = reader_of(bucket, "n.parquet")
    items = read_all(reader, recording_s3)
    assert [i.value for i in items] == [{"id": i, "name": f"n{i}"} for i in range(25)]
    gets = [params for name, params in recording_s3.calls if name == "get_object"]
    assert gets and all("Range" in params and "IfMatch" in params for params in gets)
    for cut in range(26):
        stream = open_items(ItemReaderRequest.of_asl(reader), None, s3_client)
        iterator = iter(stream)
        head = [next(iterator) for _ in range(cut)]
        cursor = json.loads(json.dumps(stream.cursor()))
        stream.close()
        assert head + read_all(reader, s3_client, cursor) == items, cut


def test_max_items_and_listing_flatten_and_athena_manifest(
    s3_client: Any, bucket: str, put: Put
) -> None:
    put("p/a.parquet", parquet_bytes(numbers(3), 2))
    put("p/b.parquet", parquet_bytes(numbers(2), 2))
    limited = reader_of(bucket, "p/a.parquet")
    limited["ReaderConfig"]["MaxItems"] = 2
    assert [i.value["id"] for i in read_all(limited, s3_client)] == [0, 1]
    flatten = {"Resource": "arn:aws:states:::s3:listObjectsV2",
               "Parameters": {"Bucket": bucket, "Prefix": "p/"},
               "ReaderConfig": {"InputType": "PARQUET", "Transformation": "LOAD_AND_FLATTEN"}}
    assert [(i.index, i.value["id"]) for i in read_all(flatten, s3_client)] == [
        (0, 0), (1, 1), (2, 2), (3, 0), (4, 1)]
    put("athena/q-manifest.csv",
        f"s3://{bucket}/p/b.parquet\ns3://{bucket}/p/a.parquet\n".encode())
    athena = {"Resource": "arn:aws:states:::s3:getObject",
              "Parameters": {"Bucket": bucket, "Key": "athena/q-manifest.csv"},
              "ReaderConfig": {"ManifestType": "ATHENA_DATA", "InputType": "PARQUET"}}
    assert [(i.value["id"], i.source) for i in read_all(athena, s3_client)] == [
        (0, f"S3://{bucket}/p/b.parquet"), (1, f"S3://{bucket}/p/b.parquet"),
        (0, f"S3://{bucket}/p/a.parquet"), (1, f"S3://{bucket}/p/a.parquet"),
        (2, f"S3://{bucket}/p/a.parquet")]


def test_a_file_that_is_not_parquet_fails_naming_it(
    s3_client: Any, bucket: str, put: Put
) -> None:
    put("bad.parquet", b"this is not parquet at all")
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader_of(bucket, "bad.parquet"), s3_client)
    assert raised.value.cause.startswith(f"Cannot read s3://{bucket}/bad.parquet as Parquet: ")


def test_a_corrupt_row_group_fails_naming_the_file_and_row_group(
    s3_client: Any, bucket: str, put: Put
) -> None:
    data = bytearray(parquet_bytes(numbers(40), 20))
    meta = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(1).column(1)
    start = meta.dictionary_page_offset or meta.data_page_offset
    data[start + 20 : start + meta.total_compressed_size] = b"\xff" * (
        meta.total_compressed_size - 20)
    put("corrupt.parquet", bytes(data))
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader_of(bucket, "corrupt.parquet"), s3_client)
    assert raised.value.cause.startswith(
        f"Cannot read row group 1 of s3://{bucket}/corrupt.parquet as Parquet: ")


def test_version_id_and_missing_object_are_refused(s3_client: Any, bucket: str) -> None:
    with pytest.raises(ItemReaderFailed) as version:
        read_all(reader_of(bucket, "n.parquet", VersionId="v1"), s3_client)
    assert "VersionId is not supported for InputType PARQUET" in version.value.cause
    with pytest.raises(ItemReaderFailed) as missing:
        read_all(reader_of(bucket, "absent.parquet"), s3_client)
    assert missing.value.cause.startswith(f"Failed to read s3://{bucket}/absent.parquet: ")


def test_an_object_replaced_before_resume_fails(s3_client: Any, bucket: str, put: Put) -> None:
    put("r.parquet", parquet_bytes(numbers(4), 2))
    reader = reader_of(bucket, "r.parquet")
    stream = open_items(ItemReaderRequest.of_asl(reader), None, s3_client)
    next(iter(stream))
    cursor = stream.cursor()
    stream.close()
    put("r.parquet", parquet_bytes(numbers(6), 2))
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader, s3_client, cursor)
    assert "PreconditionFailed" in raised.value.cause

"""s3:listObjectsV2 (NONE, LOAD_AND_FLATTEN) and S3 inventory readers against a real S3 server."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from orchestrator.asl import ItemReaderRequest
from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers import Item, open_items

Put = Callable[[str, bytes], str]


def listing(bucket: str, prefix: str | None = None, **config: Any) -> dict[str, Any]:
    params = {"Bucket": bucket} if prefix is None else {"Bucket": bucket, "Prefix": prefix}
    return {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": params,
            "ReaderConfig": config}


def read_all(reader: dict[str, Any], s3: Any, cursor: dict[str, Any] | None = None) -> list[Item]:
    with open_items(ItemReaderRequest.of_asl(reader), None, s3, cursor=cursor) as stream:
        return list(stream)


def resumed_at(reader: dict[str, Any], s3: Any, cut: int) -> list[Item]:
    stream = open_items(ItemReaderRequest.of_asl(reader), None, s3)
    iterator = iter(stream)
    head = [next(iterator) for _ in range(cut)]
    cursor = json.loads(json.dumps(stream.cursor()))
    stream.close()
    return head + read_all(reader, s3, cursor)


def test_listed_objects_become_metadata_items(s3_client: Any, bucket: str, put: Put) -> None:
    put("uploads/2025-06-01/cat.png", b"meow")
    put("uploads/2025-06-01/", b"")
    put("other/dog.png", b"woof")
    items = read_all(listing(bucket, "uploads/2025-06-01/"), s3_client)
    heads = {
        key: s3_client.head_object(Bucket=bucket, Key=key)
        for key in ("uploads/2025-06-01/", "uploads/2025-06-01/cat.png")
    }
    assert items == [
        Item(index, {
            "Etag": heads[key]["ETag"],
            "Key": key,
            "LastModified": int(heads[key]["LastModified"].timestamp()),
            "Size": size,
            "StorageClass": "STANDARD",
        }, f"S3://{bucket}")
        for index, (key, size) in enumerate([("uploads/2025-06-01/", 0),
                                             ("uploads/2025-06-01/cat.png", 4)])
    ]
    assert list(items[1].value) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    assert items[1].value["Etag"].startswith('"') and items[1].value["Etag"].endswith('"')


def test_prefix_is_a_raw_string_prefix(s3_client: Any, bucket: str, put: Put) -> None:
    for key in ("folder1/a", "folder10/b", "folder2/c"):
        put(key, b"x")
    assert [i.value["Key"] for i in read_all(listing(bucket, "folder1"), s3_client)] == [
        "folder1/a", "folder10/b"
    ]


def test_every_page_is_read_and_resume_lists_after_the_last_key(
    s3_client: Any, bucket: str, put: Put, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orchestrator.readers._listing.PAGE_SIZE", 4)
    for number in range(11):
        put(f"p/{number:02d}", b"x")
    reader = listing(bucket, "p/")
    expected = read_all(reader, s3_client)
    assert [item.value["Key"] for item in expected] == [f"p/{n:02d}" for n in range(11)]
    assert [item.index for item in expected] == list(range(11))
    for cut in (0, 3, 4, 5, 10, 11):
        assert resumed_at(reader, s3_client, cut) == expected


def test_more_than_1000_objects_are_all_listed(s3_client: Any, bucket: str) -> None:
    keys = [f"many/{n:05d}" for n in range(1003)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda k: s3_client.put_object(Bucket=bucket, Key=k, Body=b""), keys))
    items = read_all(listing(bucket, "many/", MaxItems=1002), s3_client)
    assert [item.value["Key"] for item in items] == keys[:1002]


def test_listing_a_missing_bucket_fails(s3_client: Any) -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(listing("no-such-bucket-stepmap", "x/"), s3_client)
    assert raised.value.cause == (
        "Failed to list s3://no-such-bucket-stepmap/x/*: NoSuchBucket: "
        "The specified bucket does not exist"
    )


def test_load_and_flatten_yields_the_records_of_every_object(
    s3_client: Any, bucket: str, put: Put
) -> None:
    put("in/a.csv", b"id,v\n1,x\n2,y\n")
    put("in/b.csv", b"id,v\n3,z\n")
    put("in/empty/", b"")
    reader = listing(bucket, "in/", InputType="CSV", CSVHeaderLocation="FIRST_ROW",
                     Transformation="LOAD_AND_FLATTEN")
    items = read_all(reader, s3_client)
    assert items == [
        Item(0, {"id": "1", "v": "x"}, f"S3://{bucket}/in/a.csv"),
        Item(1, {"id": "2", "v": "y"}, f"S3://{bucket}/in/a.csv"),
        Item(2, {"id": "3", "v": "z"}, f"S3://{bucket}/in/b.csv"),
    ]
    for cut in range(4):
        assert resumed_at(reader, s3_client, cut) == items


def test_load_and_flatten_jsonl_with_max_items(s3_client: Any, bucket: str, put: Put) -> None:
    put("j/1.jsonl", b'{"n": 1}\n{"n": 2}\n')
    put("j/2.jsonl.gz", gzip.compress(b'{"n": 3}\n{"n": 4}\n'))
    reader = listing(bucket, "j/", InputType="JSONL", Transformation="LOAD_AND_FLATTEN",
                     MaxItems=3)
    items = read_all(reader, s3_client)
    assert [(item.value, item.source) for item in items] == [
        ({"n": 1}, f"S3://{bucket}/j/1.jsonl"),
        ({"n": 2}, f"S3://{bucket}/j/1.jsonl"),
        ({"n": 3}, f"S3://{bucket}/j/2.jsonl.gz"),
    ]
    assert resumed_at(reader, s3_client, 2) == items


def inventory(s3_client: Any, bucket: str, put: Put) -> dict[str, Any]:
    rows_1 = (b'"src","a.txt","3399671","2022-11-16T00:29:32.000Z"\n'
              b'"src","b/c.txt","0","2022-11-17T01:00:00.000Z"\n')
    rows_2 = b'"src","d.txt","12","2022-11-18T02:00:00.000Z"\n'
    put("inv/data/1.csv.gz", gzip.compress(rows_1))
    put("inv/data/2.csv.gz", gzip.compress(rows_2))
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": f"arn:aws:s3:::{bucket}",
        "version": "2016-11-30",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [
            {"key": "inv/data/1.csv.gz", "size": 1, "MD5checksum": "x"},
            {"key": "inv/data/2.csv.gz", "size": 1, "MD5checksum": "y"},
        ],
    }
    put("inv/manifest.json", json.dumps(manifest).encode())
    return {"Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": bucket, "Key": "inv/manifest.json"},
            "ReaderConfig": {"ManifestType": "S3_INVENTORY"}}


def test_s3_inventory_rows_are_string_objects(s3_client: Any, bucket: str, put: Put) -> None:
    reader = inventory(s3_client, bucket, put)
    items = read_all(reader, s3_client)
    first, second = f"S3://{bucket}/inv/data/1.csv.gz", f"S3://{bucket}/inv/data/2.csv.gz"
    assert items == [
        Item(0, {"Bucket": "src", "Key": "a.txt", "Size": "3399671",
                 "LastModifiedDate": "2022-11-16T00:29:32.000Z"}, first),
        Item(1, {"Bucket": "src", "Key": "b/c.txt", "Size": "0",
                 "LastModifiedDate": "2022-11-17T01:00:00.000Z"}, first),
        Item(2, {"Bucket": "src", "Key": "d.txt", "Size": "12",
                 "LastModifiedDate": "2022-11-18T02:00:00.000Z"}, second),
    ]
    for cut in range(4):
        assert resumed_at(reader, s3_client, cut) == items


def test_legacy_manifest_input_type_reads_the_inventory(
    s3_client: Any, bucket: str, put: Put
) -> None:
    reader = inventory(s3_client, bucket, put)
    reader["ReaderConfig"] = {"InputType": "MANIFEST", "MaxItems": 1}
    assert [item.value["Key"] for item in read_all(reader, s3_client)] == ["a.txt"]


def test_non_csv_inventory_fails(s3_client: Any, bucket: str, put: Put) -> None:
    put("inv/manifest.json", json.dumps({"fileFormat": "Parquet", "fileSchema": "x",
                                         "files": []}).encode())
    reader = {"Resource": "arn:aws:states:::s3:getObject",
              "Parameters": {"Bucket": bucket, "Key": "inv/manifest.json"},
              "ReaderConfig": {"ManifestType": "S3_INVENTORY"}}
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader, s3_client)
    assert raised.value.cause == (
        f"S3 inventory manifest s3://{bucket}/inv/manifest.json has fileFormat 'Parquet'; "
        "only CSV inventory reports are supported."
    )


def test_athena_manifest_reads_every_listed_data_file(
    s3_client: Any, bucket: str, put: Put
) -> None:
    put("athena/out/part-0.gz", gzip.compress(b"1,a\n2,b\n"))
    put("athena/out/part-1.gz", gzip.compress(b"3,c\n"))
    put("athena/q-manifest.csv",
        f"s3://{bucket}/athena/out/part-0.gz\ns3://{bucket}/athena/out/part-1.gz\n".encode())
    reader = {"Resource": "arn:aws:states:::s3:getObject",
              "Parameters": {"Bucket": bucket, "Key": "athena/q-manifest.csv"},
              "ReaderConfig": {"ManifestType": "ATHENA_DATA", "InputType": "CSV",
                               "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["id", "name"]}}
    items = read_all(reader, s3_client)
    assert [(item.index, item.value, item.source) for item in items] == [
        (0, {"id": "1", "name": "a"}, f"S3://{bucket}/athena/out/part-0.gz"),
        (1, {"id": "2", "name": "b"}, f"S3://{bucket}/athena/out/part-0.gz"),
        (2, {"id": "3", "name": "c"}, f"S3://{bucket}/athena/out/part-1.gz"),
    ]
    for cut in range(4):
        assert resumed_at(reader, s3_client, cut) == items


def test_athena_manifest_with_a_bad_line_fails(s3_client: Any, bucket: str, put: Put) -> None:
    put("athena/q-manifest.csv", b"not-a-uri\n")
    reader = {"Resource": "arn:aws:states:::s3:getObject",
              "Parameters": {"Bucket": bucket, "Key": "athena/q-manifest.csv"},
              "ReaderConfig": {"ManifestType": "ATHENA_DATA", "InputType": "JSONL"}}
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader, s3_client)
    assert raised.value.cause == (
        f"Athena manifest s3://{bucket}/athena/q-manifest.csv line 1 is not an s3://bucket/key "
        "URI: 'not-a-uri'"
    )

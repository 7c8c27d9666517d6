"""s3:getObject readers (CSV, JSON, JSONL, compressed) against a real S3 server."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.asl import ItemReaderRequest
from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.jsontext import dumps
from orchestrator.readers import Item, open_items

Put = Callable[[str, bytes], str]


def get_object(bucket: str, key: str, **config: Any) -> dict[str, Any]:
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket": bucket, "Key": key},
        "ReaderConfig": config,
    }


def read_all(reader: dict[str, Any], s3: Any, cursor: dict[str, Any] | None = None) -> list[Item]:
    with open_items(ItemReaderRequest.of_asl(reader), None, s3, cursor=cursor) as stream:
        return list(stream)


def resumed_everywhere(reader: dict[str, Any], s3: Any) -> list[list[Item]]:
    """For every cut point k: the first k items, then a new stream resumed from the cursor."""
    results = []
    total = len(read_all(reader, s3))
    for cut in range(total + 1):
        stream = open_items(ItemReaderRequest.of_asl(reader), None, s3)
        iterator = iter(stream)
        head = [next(iterator) for _ in range(cut)]
        cursor = json.loads(json.dumps(stream.cursor()))  # must survive a JSON round trip
        stream.close()
        results.append(head + read_all(reader, s3, cursor))
    return results


CSV = b"customer_id,spend,region\nc-001,12.50,EU\nc-002,7,US\n\"c-003\",\"1,5\",\"A\nB\"\n"


def test_csv_rows_become_string_items_with_index_and_source(
    s3_client: Any, bucket: str, put: Put
) -> None:
    put("exports/customers.csv", CSV)
    items = read_all(
        get_object(bucket, "exports/customers.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW"),
        s3_client,
    )
    source = f"S3://{bucket}/exports/customers.csv"
    assert items == [
        Item(0, {"customer_id": "c-001", "spend": "12.50", "region": "EU"}, source),
        Item(1, {"customer_id": "c-002", "spend": "7", "region": "US"}, source),
        Item(2, {"customer_id": "c-003", "spend": "1,5", "region": "A\nB"}, source),
    ]


def test_csv_resume_equals_the_uninterrupted_stream(s3_client: Any, bucket: str, put: Put) -> None:
    put("c.csv", CSV)
    reader = get_object(bucket, "c.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW")
    expected = read_all(reader, s3_client)
    assert resumed_everywhere(reader, s3_client) == [expected] * 4


def test_csv_resume_reads_from_the_byte_offset_not_the_start(
    recording_s3: Any, bucket: str, put: Put
) -> None:
    put("c.csv", CSV)
    reader = get_object(bucket, "c.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW")
    stream = open_items(ItemReaderRequest.of_asl(reader), None, recording_s3)
    next(iter(stream))
    cursor = stream.cursor()
    stream.close()
    assert cursor["offset"] == 40
    rest = read_all(reader, recording_s3, cursor)
    assert [item.index for item in rest] == [1, 2]
    name, params = recording_s3.calls[-1]
    assert (name, params["Range"], params["IfMatch"]) == ("get_object", "bytes=40-", cursor["etag"])


def test_csv_given_headers_and_pipe_delimiter(s3_client: Any, bucket: str, put: Put) -> None:
    put("ratings.psv", b"1|307|3.5\n1|481\n")
    items = read_all(
        get_object(bucket, "ratings.psv", InputType="CSV", CSVHeaderLocation="GIVEN",
                   CSVHeaders=["userId", "movieId", "rating"], CSVDelimiter="PIPE"),
        s3_client,
    )
    assert [item.value for item in items] == [
        {"userId": "1", "movieId": "307", "rating": "3.5"},
        {"userId": "1", "movieId": "481", "rating": ""},
    ]


def test_max_items_truncates_and_holds_across_resume(s3_client: Any, bucket: str, put: Put) -> None:
    put("n.csv", b"n\n" + b"".join(b"%d\n" % i for i in range(10)))
    reader = get_object(bucket, "n.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW", MaxItems=4)
    assert [item.value["n"] for item in read_all(reader, s3_client)] == ["0", "1", "2", "3"]
    stream = open_items(ItemReaderRequest.of_asl(reader), None, s3_client)
    iterator = iter(stream)
    next(iterator), next(iterator), next(iterator)
    assert [item.value["n"] for item in read_all(reader, s3_client, stream.cursor())] == ["3"]


def test_max_items_zero_means_no_limit(s3_client: Any, bucket: str, put: Put) -> None:
    put("a.json", b"[1, 2, 3]")
    reader = get_object(bucket, "a.json", InputType="JSON", MaxItems=0)
    assert [item.value for item in read_all(reader, s3_client)] == [1, 2, 3]


def test_json_array_items_and_resume(s3_client: Any, bucket: str, put: Put) -> None:
    put("orders.json", json.dumps([{"id": i} for i in range(5)] + [["a"]]).encode())
    reader = get_object(bucket, "orders.json", InputType="JSON")
    expected = read_all(reader, s3_client)
    assert [item.value for item in expected] == [{"id": i} for i in range(5)] + [["a"]]
    assert expected[0].source == f"S3://{bucket}/orders.json"
    assert resumed_everywhere(reader, s3_client) == [expected] * 7


def test_json_items_pointer_selects_a_nested_array(s3_client: Any, bucket: str, put: Put) -> None:
    put("doc.json", b'{"meta": {"n": 2}, "data": {"rows": [{"id": 1}, {"id": 2}]}}')
    reader = get_object(bucket, "doc.json", InputType="JSON", ItemsPointer="/data/rows")
    assert [item.value for item in read_all(reader, s3_client)] == [{"id": 1}, {"id": 2}]


def test_json_top_level_object_fails_as_non_iterable(s3_client: Any, bucket: str, put: Put) -> None:
    put("obj.json", b'{"a": 1}')
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object(bucket, "obj.json", InputType="JSON"), s3_client)
    assert raised.value.cause == "Attempting to map over non-iterable node."


def test_bad_json_names_bucket_key_and_offset(s3_client: Any, bucket: str, put: Put) -> None:
    put("bad.json", b"[1, 2, }")
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object(bucket, "bad.json", InputType="JSON"), s3_client)
    assert raised.value.cause.startswith(
        f"Cannot parse JSON s3://{bucket}/bad.json at or before byte offset 8: parse error"
    )


def test_jsonl_items_and_resume(s3_client: Any, bucket: str, put: Put) -> None:
    put("events.jsonl", b'{"e": 1}\n{"e": 2}\n\n[3]\n"four"\n')
    reader = get_object(bucket, "events.jsonl", InputType="JSONL")
    expected = read_all(reader, s3_client)
    assert [item.value for item in expected] == [{"e": 1}, {"e": 2}, [3], "four"]
    assert resumed_everywhere(reader, s3_client) == [expected] * 5


def test_bad_jsonl_line_names_bucket_key_and_line(s3_client: Any, bucket: str, put: Put) -> None:
    put("events.jsonl", b'{"e": 1}\n{"e": \n')
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object(bucket, "events.jsonl", InputType="JSONL"), s3_client)
    assert raised.value.cause.startswith(
        f"Cannot parse JSONL s3://{bucket}/events.jsonl at line 2 (byte offset 9): "
    )


def test_gzip_objects_are_decompressed_by_extension_and_resume(
    s3_client: Any, bucket: str, put: Put
) -> None:
    put("c.csv.gz", gzip.compress(CSV))
    reader = get_object(bucket, "c.csv.gz", InputType="CSV", CSVHeaderLocation="FIRST_ROW")
    expected = read_all(reader, s3_client)
    assert [item.value["customer_id"] for item in expected] == ["c-001", "c-002", "c-003"]
    assert resumed_everywhere(reader, s3_client) == [expected] * 4


def test_concatenated_gzip_members_are_one_stream(s3_client: Any, bucket: str, put: Put) -> None:
    put("e.jsonl.gz", gzip.compress(b'{"e": 1}\n') + gzip.compress(b'{"e": 2}\n'))
    reader = get_object(bucket, "e.jsonl.gz", InputType="JSONL")
    assert [item.value for item in read_all(reader, s3_client)] == [{"e": 1}, {"e": 2}]


def test_truncated_gzip_fails(s3_client: Any, bucket: str, put: Put) -> None:
    put("e.jsonl.gz", gzip.compress(b'{"e": 1}\n' * 100)[:-12])
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object(bucket, "e.jsonl.gz", InputType="JSONL"), s3_client)
    assert raised.value.cause == (
        f"Failed to decompress s3://{bucket}/e.jsonl.gz as GZIP: "
        "the compressed stream ends early (truncated object)."
    )


def test_zstd_objects_are_decompressed_by_extension(s3_client: Any, bucket: str, put: Put) -> None:
    zstandard = pytest.importorskip("zstandard")
    put("c.csv.zstd", zstandard.ZstdCompressor().compress(CSV))
    reader = get_object(bucket, "c.csv.zstd", InputType="CSV", CSVHeaderLocation="FIRST_ROW")
    assert [item.value["spend"] for item in read_all(reader, s3_client)] == ["12.50", "7", "1,5"]


def test_missing_key_fails_naming_bucket_and_key(s3_client: Any, bucket: str) -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object(bucket, "nope.csv", InputType="CSV"), s3_client)
    assert raised.value.error == "States.ItemReaderFailed"
    assert raised.value.cause == (
        f"Failed to read s3://{bucket}/nope.csv: NoSuchKey: The specified key does not exist."
    )


def test_missing_bucket_fails_naming_the_bucket(s3_client: Any) -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object("no-such-bucket-stepmap", "k.json", InputType="JSON"), s3_client)
    assert raised.value.cause == (
        "Failed to read s3://no-such-bucket-stepmap/k.json: NoSuchBucket: "
        "The specified bucket does not exist"
    )


def test_csv_duplicate_given_headers_fail(s3_client: Any, bucket: str, put: Put) -> None:
    put("d.csv", b"1,2\n")
    reader = get_object(bucket, "d.csv", InputType="CSV", CSVHeaderLocation="GIVEN",
                        CSVHeaders=["a", "a"])
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader, s3_client)
    assert raised.value.cause == "CSV headers cannot contain duplicates."


def test_bad_utf8_in_csv_names_bucket_key_and_line(s3_client: Any, bucket: str, put: Put) -> None:
    put("u.csv", b"a\nok\n\xc3\x28\n")
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(get_object(bucket, "u.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW"),
                 s3_client)
    assert raised.value.cause == (
        f"Invalid UTF-8 in CSV s3://{bucket}/u.csv at line 3 (byte offset 5)."
    )


def test_resume_fails_when_the_object_was_replaced(s3_client: Any, bucket: str, put: Put) -> None:
    put("c.csv", CSV)
    reader = get_object(bucket, "c.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW")
    stream = open_items(ItemReaderRequest.of_asl(reader), None, s3_client)
    next(iter(stream))
    cursor = stream.cursor()
    stream.close()
    put("c.csv", CSV + b"c-004,1,EU\n")
    with pytest.raises(ItemReaderFailed) as raised:
        read_all(reader, s3_client, cursor)
    assert raised.value.cause.startswith(f"Failed to read s3://{bucket}/c.csv: PreconditionFailed")


# --- deep nesting (issue 9): a clear ItemReaderFailed, never a recursion crash to retry


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [257, 5000])
def test_a_json_item_nested_too_deeply_fails_the_reader_naming_item_and_position(
    s3_client: Any, bucket: str, put: Put, depth: int
) -> None:
    put("deep.json", b'[{"ok": 1}, ' + nested(depth) + b"]")
    with open_items(ItemReaderRequest.of_asl(get_object(bucket, "deep.json", InputType="JSON")), None, s3_client) as stream:
        items = iter(stream)
        assert next(items).value == {"ok": 1}
        with pytest.raises(ItemReaderFailed) as caught:
            next(items)
    assert f"Item 1 (0-based position in the dataset) read from S3://{bucket}/deep.json" in (
        caught.value.cause)
    assert "256 levels" in caught.value.cause


@pytest.mark.parametrize("depth", [300, 5000])
def test_a_jsonl_line_nested_too_deeply_fails_the_reader_naming_the_line(
    s3_client: Any, bucket: str, put: Put, depth: int
) -> None:
    put("deep.jsonl", b'{"ok": 1}\n' + nested(depth) + b"\n")
    reader = get_object(bucket, "deep.jsonl", InputType="JSONL")
    with pytest.raises(ItemReaderFailed) as caught:
        read_all(reader, s3_client)
    assert ("line 2" in caught.value.cause or "Item 1 " in caught.value.cause)
    assert "256" in caught.value.cause


def test_an_item_nested_at_the_limit_is_read(s3_client: Any, bucket: str, put: Put) -> None:
    put("edge.json", b"[" + nested(256) + b"]")
    items = read_all(get_object(bucket, "edge.json", InputType="JSON"), s3_client)
    assert len(items) == 1


@pytest.mark.parametrize("max_items", [None, 2])
def test_csv_json_blocks_match_the_items_and_resume_at_every_cut(
    s3_client: Any, bucket: str, put: Put, max_items: int | None
) -> None:
    put("exports/texts.csv", CSV + b"c-004,3,EU\r\n\r\nc-005,\\,,US\n")
    config: dict[str, Any] = {"InputType": "CSV"}
    if max_items is not None:
        config["MaxItems"] = max_items
    reader = ItemReaderRequest.of_asl(get_object(bucket, "exports/texts.csv", **config))
    expected = [dumps(item.value) for item in read_all(reader.to_asl(), s3_client)]
    assert len(expected) == (max_items or 5)
    for cut in range(len(expected) + 1):
        stream = open_items(reader, None, s3_client)
        blocks = stream.json_blocks(1)
        assert blocks is not None
        head = [text for _ in range(cut) for text in next(blocks)]
        cursor = json.loads(json.dumps(stream.cursor()))
        stream.close()
        with open_items(reader, None, s3_client, cursor=cursor) as rest:
            tail = rest.json_blocks(2)
            assert tail is not None
            assert head + [text for block in tail for text in block] == expected, cut


def test_json_objects_have_no_json_texts_path(s3_client: Any, bucket: str, put: Put) -> None:
    put("exports/rows.json", b'[{"a": 1}]')
    with open_items(ItemReaderRequest.of_asl(get_object(bucket, "exports/rows.json",
                                                        InputType="JSON")),
                    None, s3_client) as stream:
        assert stream.json_blocks(10) is None
        assert [item.value for item in stream] == [{"a": 1}]

"""Children that read their own byte ranges (issue 14) give the exact child inputs of the
parsing path: a differential test over tricky CSVs in a real S3 server (moto), with small and
large read chunks (quoted fields and blank lines across chunk ends), planned in one go and
resumed from the cursor after every range."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.asl import ItemReaderRequest
from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.maprun.batching import Batcher
from orchestrator.maprun.plan import BatchRule
from orchestrator.readers import _s3, open_items
from orchestrator.readers.ranges import (
    RangeInput,
    RangePlanner,
    eligible,
    is_range,
    resolve,
    resolve_all,
)


def _rows(first: int, last: int, sep: bytes = b",", end: bytes = b"\n") -> bytes:
    return b"".join(b"%d%sitem-%d%s%d%s" % (i, sep, i, sep, i * 7, end)
                    for i in range(first, last))


#: name -> (object bytes, ReaderConfig extras)
CASES: dict[str, tuple[bytes, dict[str, Any]]] = {
    "plain": (b"id,name,amount\n" + _rows(0, 205), {}),
    "no final newline": (b"id,name,amount\n" + _rows(0, 99).rstrip(b"\n"), {}),
    "bom, quoted newline, crlf, escape, blank, short, tab": (
        "\ufeffid,name,amount\n".encode() + _rows(0, 40)
        + b'40,"two\nlines",1\r\n41,x\\,y,2\n\n42\n43,tab\there,3\n' + _rows(44, 130), {}),
    "quoted field over many lines and doubled quotes": (
        b'id,name,amount\n' + _rows(0, 33)
        + b'33,"a\n\n\nb ""quoted"" c\n",x\n34,{""k"":""v""},2\n' + _rows(35, 90), {}),
    "cr line ends": (b"id,name,amount\r" + _rows(0, 70, end=b"\r"), {}),
    "crlf line ends": (b"id,name,amount\r\n" + _rows(0, 70, end=b"\r\n"), {}),
    "blank lines everywhere": (
        b"\n\nid,name,amount\n\n" + _rows(0, 40) + b"\n\n\n" + _rows(40, 80) + b"\n\n", {}),
    "short and long rows": (
        b"a,b,c\n" + b"".join(b"%d\n%d,x,y,z,w\n%d,\n" % (i, i, i) for i in range(40)), {}),
    "quoted header": (b'"id, first","na""me",amount\n' + _rows(0, 64), {}),
    "utf-8 and backslashes": (
        b"id,text\n" + "".join(f"{i},h\u00e9llo \u4e16\u754c {i}\\\\x\n" for i in range(75)).encode(),
        {}),
    "given headers, pipe": (_rows(0, 120, sep=b"|"),
                            {"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b", "c"],
                             "CSVDelimiter": "PIPE"}),
    "tab, semicolon in fields": (b"x\ty\tz\n" + _rows(0, 80, sep=b"\t").replace(b"item", b"i;t"),
                                 {"CSVDelimiter": "TAB"}),
    "space delimiter": (b"x y z\n" + _rows(0, 50, sep=b" "), {"CSVDelimiter": "SPACE"}),
    "larger than a block, quotes far apart": (
        b"id,name,amount\n" + b"".join(
            (b'%d,"quoted\nover lines, ""with"" quotes",%s\n' % (i, b"x" * 40)) if i % 700 == 3
            else b"%d,item-%d,%s\n" % (i, i, b"y" * 40) for i in range(3000)), {}),
    "only a header": (b"id,name\n", {}),
    "empty": (b"", {}),
    "max items": (b"id,name,amount\n" + _rows(0, 150), {"MaxItems": 77}),
    "max items over a quoted row": (b"id,name,amount\n" + _rows(0, 40) + b'40,"a\nb",c\n'
                                    + _rows(41, 90), {"MaxItems": 41}),
}


def _jsonl(first: int, last: int) -> bytes:
    return b"".join(b'{"id":%d,"name":"item-%d","tags":["a",{"b":[1,2.5,null,true]}],'
                    b'"text":"caf\xc3\xa9 \\"q\\" \\\\"}\n' % (i, i)
                    for i in range(first, last))


#: name -> (object bytes, ReaderConfig extras), read as JSONL.
JSONL_CASES: dict[str, tuple[bytes, dict[str, Any]]] = {
    "jsonl plain": (_jsonl(0, 150), {}),
    "jsonl no final newline": (_jsonl(0, 70).rstrip(b"\n"), {}),
    "jsonl blank and whitespace lines, crlf, scalars": (
        b"\n  \n" + _jsonl(0, 40) + b"\t\r\n\n" + b"1\r\n\"s\"\n[1,2]\n  {\"x\": 1}  \n"
        + _jsonl(40, 80) + b"\n\n", {}),
    "jsonl max items": (_jsonl(0, 150), {"MaxItems": 45}),
    "jsonl large": (_jsonl(0, 1500) + b"\n" + _jsonl(1500, 2000), {}),
}


def _reader(bucket: str, config: dict[str, Any], input_type: str = "CSV") -> ItemReaderRequest:
    return ItemReaderRequest.of_asl({
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket": bucket, "Key": "data.csv"},
        "ReaderConfig": {"InputType": input_type, **config},
    })


def _parsed(s3: Any, reader: ItemReaderRequest, rule: BatchRule) -> list[str]:
    """The child inputs of today's path: the feeder's json_blocks (CSV) or items (JSONL),
    through its Batcher."""
    inputs: list[str] = []
    with open_items(reader, None, s3) as stream:
        blocks = stream.json_blocks(64)
        batcher = Batcher(rule, texts=blocks is not None)
        if blocks is None:
            for item in stream:
                inputs += [b.input_json for b in batcher.add(item.value)]
        else:
            for block in blocks:
                inputs += [b.input_json for b in batcher.add_texts(block)]
    return inputs + [b.input_json for b in batcher.flush()]


def _ranged(s3: Any, reader: ItemReaderRequest, rule: BatchRule, *,
            resume_each: bool) -> list[str]:
    """The child inputs of the range path: planned (resumed from the cursor after every range
    when ``resume_each``), then each resolved as a worker does."""
    assert rule.max_items is not None
    limit = reader.config.max_items
    cursor: dict[str, Any] = {}
    descriptors: list[str] = []
    while True:
        planner = RangePlanner(s3, reader, cursor)
        left = None if limit is None else limit - planner.index
        got = 0
        for piece in planner.pieces(rule.max_items, left):
            descriptors.append(planner.descriptor(piece, Batcher(rule).suffix).to_text())
            got += 1
            if resume_each:
                break
        planner.close()
        cursor = planner.cursor()
        if not resume_each or not got:
            break
    assert all(is_range(d) for d in descriptors)
    if resume_each:
        return [resolve(s3, d) for d in descriptors]  # a GET per child
    # As a worker resolves a message's children: one GET per run of adjacent ranges.
    resolved = resolve_all(s3, descriptors)
    assert all(isinstance(text, str) for text in resolved)
    return [str(text) for text in resolved]


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
@pytest.mark.parametrize(("name", "input_type"), [(n, "CSV") for n in CASES]
                         + [(n, "JSONL") for n in JSONL_CASES])
def test_children_reading_their_ranges_get_the_parsing_paths_inputs_byte_for_byte(
    s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, name: str, input_type: str,
    chunk: int
) -> None:
    data, config = (CASES if input_type == "CSV" else JSONL_CASES)[name]
    s3_client.put_object(Bucket=bucket, Key="data.csv", Body=data)
    monkeypatch.setattr(_s3, "CHUNK_SIZE", chunk)
    reader = _reader(bucket, config, input_type)
    rule = BatchRule(max_items=32, batch_input={"run": "r-1", "n": [1, "two"]})
    assert eligible(reader, max_items_per_batch=32, max_bytes_per_batch=None, item_selector=None)
    expected = _parsed(s3_client, reader, rule)
    assert _ranged(s3_client, reader, rule, resume_each=False) == expected
    assert _ranged(s3_client, reader, rule, resume_each=True) == expected


@pytest.mark.parametrize(("data", "line"), [
    (_jsonl(0, 50) + b'{"id": 50, "broken"\n' + _jsonl(51, 100), 51),
    (_jsonl(0, 50) + b"[" * 300 + b"]" * 300 + b"\n" + _jsonl(51, 100), None),
])
def test_a_bad_jsonl_line_fails_its_range_with_the_parsing_paths_cause(
        s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, data: bytes,
        line: int | None) -> None:
    s3_client.put_object(Bucket=bucket, Key="data.csv", Body=data)
    reader = _reader(bucket, {}, "JSONL")
    with pytest.raises(ItemReaderFailed) as parsed:
        _parsed(s3_client, reader, BatchRule(max_items=32))
    planner = RangePlanner(s3_client, reader, {})
    descriptors = [planner.descriptor(p, "").to_text() for p in planner.pieces(32)]
    with pytest.raises(ItemReaderFailed) as failed:
        resolve(s3_client, descriptors[1])
    assert failed.value.cause == parsed.value.cause
    if line is not None:
        assert f"at line {line}" in failed.value.cause
    else:
        assert "Item 50 (0-based position in the dataset)" in failed.value.cause


def test_the_differential_cases_cover_what_they_name(s3_client: Any, bucket: str) -> None:
    """The cases are not vacuous: several batches, a last short one, MaxItems applied."""
    counts = {}
    for name, (data, config) in CASES.items():
        s3_client.put_object(Bucket=bucket, Key="data.csv", Body=data)
        inputs = _parsed(s3_client, _reader(bucket, config), BatchRule(max_items=32))
        counts[name] = sum(text.count('"') > 0 for text in inputs)
    assert counts["plain"] == 7 and counts["max items"] == 3 and counts["empty"] == 0
    assert counts["bom, quoted newline, crlf, escape, blank, short, tab"] == 5


@pytest.mark.parametrize(("change", "reader_config", "params"), [
    ("no batcher", {}, {}),
])
def test_what_the_range_path_does_not_handle_keeps_the_parsing_path(
    change: str, reader_config: dict[str, Any], params: dict[str, Any]) -> None:
    base = {"Bucket": "b", "Key": "k.csv"}

    def ok(key: str = "k.csv", config: dict[str, Any] | None = None, batch: int | None = 32,
           max_bytes: int | None = None, selector: Any = None, **more: Any) -> bool:
        reader = ItemReaderRequest.of_asl({
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {**base, "Key": key, **more},
            "ReaderConfig": {"InputType": "CSV", **(config or {})}})
        return eligible(reader, max_items_per_batch=batch, max_bytes_per_batch=max_bytes,
                        item_selector=selector)

    assert ok()
    assert ok(VersionId="v1", ExpectedBucketOwner="111122223333")
    assert not ok(batch=None)
    assert not ok(batch=31)
    assert not ok(max_bytes=100_000)
    assert not ok(selector={"v.$": "$$.Map.Item.Value"})
    assert not ok(key="k.csv.gz") and not ok(key="k.csv.ZSTD")
    assert ok(config={"InputType": "JSONL"}) and not ok(config={"InputType": "JSON"})
    assert not ok(config={"InputType": "PARQUET"}) and not ok(config={"InputType": "MANIFEST"})
    assert not ok(config={"ManifestType": "ATHENA_DATA"})
    assert not ok(config={"ItemsPointer": "/a"})
    assert not ok(Prefix="p/")
    reader = ItemReaderRequest.of_asl({"Resource": "arn:aws:states:::s3:listObjectsV2",
                                       "Parameters": base, "ReaderConfig": {"InputType": "CSV"}})
    assert not eligible(reader, max_items_per_batch=32, max_bytes_per_batch=None,
                        item_selector=None)


def _planned(s3: Any, bucket: str, data: bytes) -> list[str]:
    s3.put_object(Bucket=bucket, Key="data.csv", Body=data)
    planner = RangePlanner(s3, _reader(bucket, {}), {})
    return [planner.descriptor(p, "").to_text() for p in planner.pieces(32)]


def test_a_range_of_an_overwritten_object_fails_naming_the_object_and_range(
        s3_client: Any, bucket: str) -> None:
    descriptors = _planned(s3_client, bucket, b"id,name,amount\n" + _rows(0, 100))
    s3_client.put_object(Bucket=bucket, Key="data.csv", Body=b"id,name,amount\n" + _rows(0, 100))
    # Same bytes, but a new object: moto gives the same ETag for the same content, so change one.
    s3_client.put_object(Bucket=bucket, Key="data.csv", Body=b"id,name,amount\n" + _rows(1, 101))
    with pytest.raises(ItemReaderFailed) as failed:
        resolve(s3_client, descriptors[1])
    cause = failed.value.cause
    r = RangeInput.of_text(descriptors[1])
    assert f"s3://{bucket}/data.csv" in cause and "PreconditionFailed" in cause
    assert f"bytes {r.start}-{r.stop - 1} from line {r.line + 1}" in cause


def test_a_range_of_a_deleted_object_fails_naming_it(s3_client: Any, bucket: str) -> None:
    descriptors = _planned(s3_client, bucket, b"id,name,amount\n" + _rows(0, 100))
    s3_client.delete_object(Bucket=bucket, Key="data.csv")
    with pytest.raises(ItemReaderFailed) as failed:
        resolve(s3_client, descriptors[0])
    assert f"s3://{bucket}/data.csv" in failed.value.cause
    assert "NoSuchKey" in failed.value.cause and "from line 2" in failed.value.cause


def test_a_malformed_row_fails_its_range_with_the_parsers_cause(
        s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"id,name,amount\n" + _rows(0, 50) + b"50,caf\xe9,1\n" + _rows(51, 100)
    # Plain blocks are only counted: the bad byte is found by the child that reads it.
    monkeypatch.setattr(_s3, "CHUNK_SIZE", 256)
    descriptors = _planned(s3_client, bucket, data)
    assert resolve(s3_client, descriptors[0]).startswith('{"Items":[{"id":"0"')
    with pytest.raises(ItemReaderFailed) as failed:
        resolve(s3_client, descriptors[1])
    with pytest.raises(ItemReaderFailed) as parsed:
        _parsed(s3_client, _reader(bucket, {}), BatchRule(max_items=32))
    assert failed.value.cause == parsed.value.cause
    assert "line 52" in failed.value.cause and "byte offset" in failed.value.cause


def test_a_malformed_row_the_planner_parses_fails_the_plan_with_the_parsers_cause(
        s3_client: Any, bucket: str) -> None:
    # One read chunk: the header's block is parsed, so the planner meets the bad byte itself.
    data = b"id,name,amount\n" + _rows(0, 50) + b"50,caf\xe9,1\n" + _rows(51, 100)
    with pytest.raises(ItemReaderFailed) as failed:
        _planned(s3_client, bucket, data)
    with pytest.raises(ItemReaderFailed) as parsed:
        _parsed(s3_client, _reader(bucket, {}), BatchRule(max_items=32))
    assert failed.value.cause == parsed.value.cause

"""JSON array and JSON Lines parsing on in-memory bytes, and state-input items (no S3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.asl import ItemReaderRequest
from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers import Item, open_items
from orchestrator.readers._json import JsonArrayItems, JsonLines


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(
    ("data", "pointer", "expected"),
    [
        (b'[1, "two", {"three": 3.5}, null, true]', None, [1, "two", {"three": 3.5}, None, True]),
        (b'[["a"]]', None, [["a"]]),
        (b"  \n[]", None, []),
        (b"\xef\xbb\xbf [1]", None, [1]),
        (b'{"data": {"rows": [{"id": 1}, {"id": 2}]}}', "/data/rows", [{"id": 1}, {"id": 2}]),
        (b'{"a": [[0], [1, 2]]}', "/a/1", [1, 2]),
        (b'{"a/b": {"m~n": [7]}}', "/a~1b/m~0n", [7]),
        (b'{"skip": [1, {"x": [2]}], "a": [{"b": [3]}, 4]}', "/a", [{"b": [3]}, 4]),
    ],
)
def test_json_array_elements_are_the_items(data: bytes, pointer: str | None, expected: Any) -> None:
    assert list(JsonArrayItems(chunked(data, 3), pointer=pointer)) == expected


def test_json_numbers_are_ints_and_floats_not_decimals() -> None:
    values = list(JsonArrayItems([b"[1, 2.25, 1e2]"]))
    assert values == [1, 2.25, 100.0]
    assert [type(v) for v in values] == [int, float, float]


@pytest.mark.parametrize(
    ("data", "pointer"),
    [(b'{"a": 1}', None), (b"42", None), (b'"text"', None), (b'{"a": {"b": 1}}', "/a")],
)
def test_a_non_array_node_fails_as_non_iterable(data: bytes, pointer: str | None) -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        list(JsonArrayItems([data], pointer=pointer))
    assert raised.value.cause == "Attempting to map over non-iterable node."


def test_a_pointer_to_nothing_fails_naming_the_pointer() -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        list(JsonArrayItems([b'{"a": []}'], where="s3://b/k.json", pointer="/b"))
    assert raised.value.cause == "ItemsPointer '/b' does not match any node of s3://b/k.json."


def test_truncated_json_fails_with_the_byte_offset() -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        list(JsonArrayItems([b"[1, 2"], where="s3://b/k.json"))
    assert raised.value.cause == (
        "Cannot parse JSON s3://b/k.json at or before byte offset 5: parse error: premature EOF"
    )


def test_jsonl_yields_one_value_per_line_and_tracks_position() -> None:
    lines = JsonLines(chunked(b'{"a":1}\n\n[2]\r\n"x"', 4))
    seen = [(value, lines.position()) for value in lines]
    assert seen == [
        ({"a": 1}, {"offset": 8, "line": 1}),
        ([2], {"offset": 14, "line": 3}),
        ("x", {"offset": 17, "line": 4}),
    ]


def test_jsonl_bad_line_names_line_and_offset() -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        list(JsonLines([b'{"a":1}\n{"a":\n'], where="s3://b/k.jsonl"))
    assert raised.value.cause.startswith(
        "Cannot parse JSONL s3://b/k.jsonl at line 2 (byte offset 8): "
    )


def test_state_input_array_items_keep_their_values() -> None:
    stream = open_items(None, [{"id": "o1"}, 2], s3=None)
    assert list(stream) == [Item(0, {"id": "o1"}, "STATE_DATA"), Item(1, 2, "STATE_DATA")]
    assert stream.cursor() == {"index": 2}


def test_state_input_object_yields_values_with_keys() -> None:
    stream = open_items(None, {"x": 1, "y": {"z": 2}}, s3=None)
    assert list(stream) == [
        Item(0, 1, "STATE_DATA", "x"),
        Item(1, {"z": 2}, "STATE_DATA", "y"),
    ]


def test_state_input_resumes_after_the_cursor() -> None:
    first = open_items(None, ["a", "b", "c"], s3=None)
    iterator = iter(first)
    next(iterator)
    resumed = open_items(None, ["a", "b", "c"], s3=None, cursor=first.cursor())
    assert [item.value for item in resumed] == ["b", "c"]


@pytest.mark.parametrize("items", ["text", 3, None, True])
def test_state_input_that_is_not_iterable_fails(items: Any) -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        open_items(None, items, s3=None)
    assert raised.value.cause == "Attempting to map over non-iterable node."


@pytest.mark.parametrize(
    ("max_items", "cause"),
    [(-1, "field MaxItems must be positive"), ("5", "field MaxItems must be an integer, got '5'")],
)
def test_invalid_max_items_fails(max_items: Any, cause: str) -> None:
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket": "b", "Key": "k"},
        "ReaderConfig": {"InputType": "JSON", "MaxItems": max_items},
    }
    with pytest.raises(ItemReaderFailed) as raised:
        open_items(ItemReaderRequest.of_asl(reader), None, s3=None)
    assert raised.value.cause == cause

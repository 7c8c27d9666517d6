"""The item depth check (readers/_depth.py) and which readers need it."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.asl import InputType, ReaderConfig
from orchestrator.readers._depth import MAX_ITEM_DEPTH, depth_exceeds
from orchestrator.readers._listing import ListingItems
from orchestrator.readers._objects import ObjectItems


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(("value", "limit", "expected"), [
    ("text", 0, False), (7, 0, False),
    ({"a": "1", "b": "2"}, 1, False), ({"a": "1"}, 0, True),  # flat: one level
    ([1, 2, 3], 1, False), ({"a": {"b": 1}}, 1, True), ({"a": {"b": 1}}, 2, False),
    (nested(MAX_ITEM_DEPTH), MAX_ITEM_DEPTH, False), (nested(MAX_ITEM_DEPTH + 1), MAX_ITEM_DEPTH, True),
    ([{"x": 1}, "flat", [[[]]]], 3, True), ([{"x": 1}, "flat", [[[]]]], 4, False),
])
def test_depth_counts_nested_arrays_and_objects(value: Any, limit: int, expected: bool) -> None:
    assert depth_exceeds(value, limit) is expected


def test_a_depth_of_thousands_is_found_without_recursion() -> None:
    assert depth_exceeds(nested(100_000))


@pytest.mark.parametrize(("input_type", "nested_items"), [("CSV", False), ("JSON", True), ("JSONL", True)])
def test_only_readers_whose_items_can_nest_pay_for_the_check(input_type: str, nested_items: bool) -> None:
    reader = ObjectItems(None, "b", "k", input_type=InputType(input_type), config=ReaderConfig())
    assert reader.nested_items is nested_items
    assert ListingItems.nested_items is False

"""Nesting limit on items read from S3 (docs/decisions.md, "Deepest JSON value").

A value nested thousands of levels deep parses (ijson builds it without recursion) but then
exhausts the recursion limit wherever it is copied or serialised; the control worker would
retry that forever. Such an item fails the Map Run with ``States.ItemReaderFailed`` naming it
and its position instead, at the same depth the API accepts for any JSON value.
"""

from __future__ import annotations

from typing import Any

from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers._base import Item

#: Deepest nesting of arrays and objects in one item (the API's limit for any JSON value).
MAX_ITEM_DEPTH = 256


def depth_exceeds(value: Any, limit: int = MAX_ITEM_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` arrays/objects (iterative, never recurses)."""
    if not isinstance(value, (dict, list)):
        return False
    children = value.values() if isinstance(value, dict) else value
    if not any(isinstance(child, (dict, list)) for child in children):
        return limit < 1  # flat: one level, the common case, decided without the walk
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def check_item(item: Item) -> Item:
    """``item`` itself, or :class:`ItemReaderFailed` naming it when nested too deeply."""
    if depth_exceeds(item.value):
        raise ItemReaderFailed(
            f"Item {item.index} (0-based position in the dataset) read from {item.source} is "
            f"nested more than {MAX_ITEM_DEPTH} levels deep; items may nest at most "
            f"{MAX_ITEM_DEPTH} arrays and objects."
        )
    return item

"""The one compact-JSON writer of the control plane and the workers.

Compact separators and no ASCII escaping, as AWS serialises payloads: a child's output, a
parent's output and a result file all carry the same text for the same value.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """``value`` as compact JSON text (UTF-8 characters kept as they are)."""
    return _ENCODE(value)


def batch_suffix(batch_input: Any) -> str:
    """The text after an ItemBatcher batch's items: ``,"BatchInput":...`` or nothing."""
    return "" if batch_input is None else ',"BatchInput":' + dumps(batch_input)


def batch_text(items: list[str], suffix: str) -> str:
    """An ItemBatcher child input from its items' JSON texts and :func:`batch_suffix` (the
    one envelope of the feeder's batches and of the children that read their own ranges)."""
    return batch_of_joined(",".join(items), suffix)


def batch_of_joined(items: str, suffix: str) -> str:
    """:func:`batch_text` for items already joined by commas."""
    return '{"Items":[' + items + "]" + suffix + "}"


def batch_of_values(items: list[Any], suffix: str) -> str:
    """:func:`batch_text` for items kept as values: the list serialised once."""
    return '{"Items":' + dumps(items) + suffix + "}"

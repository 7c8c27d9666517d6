"""Malformed JSON values shared by the fuzz generators, and how to write them as JSON text.

Some values cannot be built as Python objects and dumped (a literal ``1e999``; nesting
thousands deep, which ``json.dumps`` cannot recurse into), so they travel as marker strings
that :func:`dumps` replaces in the text.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

LONE_SURROGATE = "\ud800"
_MARKER = re.compile(r'"@@(DEEP|RAW):([^@"]*)@@"')


def deep(depth: int) -> str:
    """A marker for arrays nested ``depth`` levels deep."""
    return f"@@DEEP:{depth}@@"


def raw(text: str) -> str:
    """A marker for JSON text written as is (``1e999``, ``-Infinity``...)."""
    return f"@@RAW:{text}@@"


def _expand(match: re.Match[str]) -> str:
    kind, arg = match.group(1), match.group(2)
    if kind == "DEEP":
        depth = int(arg)
        return "[" * depth + "]" * depth
    return arg


def dumps(value: Any) -> str:
    """JSON text of ``value`` with markers expanded; NaN/Infinity floats written as such."""
    return _MARKER.sub(_expand, json.dumps(value, ensure_ascii=True, allow_nan=True))


def nasty(rng: random.Random, tokens: list[str] | None = None) -> Any:
    """One malformed value: wrong type, lone surrogate, deep nesting, huge or non-finite number,
    forged page token."""
    choices: list[Any] = [
        None, True, False, 0, -1, 2**63, 10**400, 1.5, float("nan"), float("inf"),
        raw("1e999"), raw("-1e999"), raw("NaN"), raw("-Infinity"), "", " ", "x" * 5000,
        LONE_SURROGATE, "a" + LONE_SURROGATE + "b", "\udfff", "\u0000", "\u202e", "ü" * 10,
        [], {}, [1, "a"], {"a": {"b": None}}, deep(rng.choice([300, 1000, 5000])),
        "eyJvIjogMWU5OTl9", "eyJvIjogLTF9", "eyJvIjogMC41fQ==", "%00", "../..", "{%x%}",
        "arn:aws:states:us-east-1:000000000000:stateMachine:" + LONE_SURROGATE,
        '{"a": NaN}', "[" * 2000, "null",
    ]
    if tokens:
        choices.extend(tokens)
    return rng.choice(choices)

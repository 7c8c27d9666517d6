"""Strict JSON for everything a client sends: bodies, execution input, definitions.

Python's :mod:`json` accepts what no other Step Functions implementation does and what
stepmap cannot store or send on: ``NaN`` and ``Infinity``, numbers that overflow a double
(``1e999`` becomes ``inf``), lone UTF-16 surrogates (``"\\ud800"`` decodes to a string that
UTF-8 cannot encode) and nesting deep enough to exhaust the interpreter's recursion limit.
:func:`loads` refuses all of them with :class:`JsonRefused`, naming where the bad value is
(a JSON Pointer) and what was expected; callers turn it into their own error code.

Decision (docs/decisions.md): at most :data:`MAX_DEPTH` nested arrays/objects in any JSON
value stepmap accepts, so the engine's recursive walks (copies, templates, serialisation)
stay far from Python's recursion limit on every worker.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Deepest nesting of arrays and objects accepted in any JSON value (decisions.md).
MAX_DEPTH = 256

_CONSTANTS = {"NaN", "Infinity", "-Infinity"}


class JsonRefused(ValueError):
    """A JSON text stepmap does not accept.

    Attributes:
        where: JSON Pointer of the offending value (``""`` for the whole document).
        problem: what is wrong and what was expected.
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{problem} at '{where or '/'}'")
        self.where = where
        self.problem = problem


class _BadNumber:
    """Stands in for a number stepmap refuses, so the walk can name where it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 40 else text[:40] + "..."


_DOUBLE_MAX = 1.7976931348623157e308


def _constant(name: str) -> Any:
    return _BadNumber(name)


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text)


def _int(text: str) -> Any:
    try:
        value = int(text)
    except ValueError:  # more than 4,300 digits (the interpreter's limit)
        return _BadNumber(text)
    return value if abs(value) <= _DOUBLE_MAX else _BadNumber(text)


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a UTF-16 surrogate code point (cannot be encoded as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def check_value(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Check a parsed JSON value: depth and strings/keys without lone surrogates.

    Iterative, so a value nested far beyond the recursion limit is reported, not crashed on.

    Raises:
        JsonRefused: naming the first offending value by its JSON Pointer.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, str):
            if has_lone_surrogate(node):
                raise JsonRefused(where, "a string holds a lone UTF-16 surrogate (expected "
                                         "valid Unicode text)")
        elif isinstance(node, _BadNumber):
            raise JsonRefused(where, f"{node.text} is out of range (expected a finite number "
                                     "within ±1.8e308; NaN and Infinity are not JSON)")
        elif isinstance(node, float) and not math.isfinite(node):
            raise JsonRefused(where, "the number is not finite (expected a finite number)")
        elif isinstance(node, (dict, list)):
            if depth >= max_depth:
                raise JsonRefused(where, f"the value is nested more than {max_depth} levels "
                                         "deep (expected at most that many nested arrays and "
                                         "objects)")
            if isinstance(node, dict):
                for key, child in node.items():
                    here = f"{where}/{_escape(str(key))}"
                    if isinstance(key, str) and has_lone_surrogate(key):
                        raise JsonRefused(where, "a member name holds a lone UTF-16 surrogate "
                                                 "(expected valid Unicode text)")
                    stack.append((child, here, depth + 1))
            else:
                stack.extend((child, f"{where}/{i}", depth + 1) for i, child in enumerate(node))


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text strictly (see the module docstring) and return the value.

    Raises:
        JsonRefused: not JSON, or a value stepmap does not accept; the message says which.
    """
    if isinstance(text, str) and has_lone_surrogate(text):
        raise JsonRefused("", "the text holds a lone UTF-16 surrogate (expected valid "
                              "Unicode text)")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise JsonRefused("", f"the value is nested more than {max_depth} levels deep "
                              "(expected at most that many nested arrays and objects)") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, digit limits
        raise JsonRefused("", f"not valid JSON: {exc}") from None
    check_value(value, max_depth)
    return value

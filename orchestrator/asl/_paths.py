"""JSONPath paths and reference paths (spec 5.3).

A *reference path* selects at most one node: ``$`` followed by ``.name``, ``['name']`` and
``[index]`` steps. It is compiled by hand into a tuple of keys (``str`` for a member, ``int``
for an index) and evaluated by a tight loop, because the engine evaluates paths on every
state of every child workflow. Any other path (``..``, ``*``, slices, filters) is parsed once
by jsonpath_ng and returns the list of all matches, as AWS does for indefinite paths.

A path starting with ``$$`` addresses the context object instead of the data; a path
starting with ``$name`` (``$name.field``, ``$name[0]``...) addresses the workflow variable
``name`` (spec 5.3, 5.6). Variables travel in the context mapping under
:data:`VARIABLES_KEY`, a private key, so a variable path costs nothing to states that do not
use one and needs no extra argument on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import re
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext.parser import parse as _jsonpath_parse

#: Key under which the interpreter may put private helpers (e.g. the random source) into the
#: context mapping; keys starting with this prefix are hidden from ``$$``.
PRIVATE_PREFIX = "__"

#: Private context key holding the variables visible to the current state (a mapping).
VARIABLES_KEY = "__variables"

# ``$name``: a variable reference (Unicode identifier, as Assign names are).
_VARIABLE = re.compile(r"\$([^\W\d]\w*)")

# Characters that end a dot-notation name; a name containing one needs bracket notation.
_NAME_STOP = frozenset(".[]()'\"*?@,: \t\r\n")


class PathSyntaxError(ValueError):
    """A path text that is not a valid (reference) path; the message says what is wrong."""


class PathNotFound(Exception):
    """A definite path selected nothing, or a reference path could not be written.

    Attributes:
        path: the path text as written.
        reason: why, in words (empty when the path simply selected nothing).
    """

    def __init__(self, path: str, reason: str = "") -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if reason else f"{path}: no such value")


class PathAssignError(PathNotFound):
    """A ResultPath could not be applied (a non-object sits in the way, index out of range)."""


class _Missing(Exception):
    """Internal: raised inside the evaluation loop; turned into PathNotFound."""


def _parse_steps(text: str) -> tuple[str | int, ...] | str:
    """Parse a reference path into its steps, or return the reason it is not one."""
    if not text.startswith("$"):
        return "a path must start with '$'"
    steps: list[str | int] = []
    i, n = 1, len(text)
    while i < n:
        char = text[i]
        if char == ".":
            start = i = i + 1
            while i < n and text[i] not in _NAME_STOP:
                i += 1
            if i == start:
                return f"expected a field name after '.' at position {start}"
            steps.append(text[start:i])
        elif char == "[":
            i += 1
            if i < n and text[i] in "'\"":
                quote = text[i]
                i += 1
                chars: list[str] = []
                while i < n and text[i] != quote:
                    # A backslash escapes the quote or itself; before any other character
                    # it is part of the name, so keys holding a backslash are found.
                    if text[i] == "\\" and i + 1 < n and text[i + 1] in (quote, "\\"):
                        i += 1
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    return "unterminated quoted field name"
                i += 1
                if i >= n or text[i] != "]":
                    return f"expected ']' at position {i}"
                steps.append("".join(chars))
                i += 1
            else:
                start = i
                if i < n and text[i] == "-":
                    i += 1
                while i < n and text[i].isascii() and text[i].isdigit():
                    i += 1
                if i == start or text[start:i] == "-" or i >= n or text[i] != "]":
                    return f"expected an array index or a quoted field name at position {start}"
                steps.append(int(text[start:i]))
                i += 1
        else:
            return f"unexpected character {char!r} at position {i}"
    return tuple(steps)


def _make_finder(steps: tuple[str | int, ...]) -> Callable[[Any], Any]:
    """A function walking ``steps``; raises _Missing when a step finds nothing."""
    if not steps:
        return lambda data: data
    if len(steps) == 1 and isinstance(steps[0], str):
        key = steps[0]

        def find_one(data: Any) -> Any:
            try:
                return data[key]
            except (KeyError, TypeError, IndexError):
                raise _Missing from None

        return find_one

    def find_many(data: Any) -> Any:
        try:
            for key in steps:
                # An int index applies to arrays only ("abc"[0] would "work" in Python).
                if key.__class__ is int and data.__class__ is not list:
                    raise _Missing
                data = data[key]
        except (KeyError, TypeError, IndexError):
            raise _Missing from None
        return data

    return find_many


def public_context(context: Mapping[str, Any]) -> Any:
    """``context`` without the interpreter's private keys (what ``$$`` shows)."""
    if any(k.startswith(PRIVATE_PREFIX) for k in context):
        return {k: v for k, v in context.items() if not k.startswith(PRIVATE_PREFIX)}
    return context


class JsonPath:
    """A compiled JSONPath (spec 5.3): definite ones return a value, others a list of matches.

    Attributes:
        text: the path as written.
        is_context: the path starts with ``$$`` and reads the context object.
        is_definite: the path selects at most one node.
        variable: the variable name of a ``$name...`` path, else None.
        needs_context: the path reads the context mapping (``$$`` or a variable).
    """

    __slots__ = (
        "text",
        "is_context",
        "is_definite",
        "variable",
        "needs_context",
        "_steps",
        "_finder",
        "_expr",
    )

    def __init__(
        self,
        text: str,
        is_context: bool,
        steps: tuple[str | int, ...] | None,
        expr: Any = None,
        variable: str | None = None,
    ) -> None:
        self.text = text
        self.is_context = is_context
        self.variable = variable
        self.needs_context = is_context or variable is not None
        self.is_definite = steps is not None
        self._steps = steps
        self._finder = _make_finder(steps) if steps is not None else None
        self._expr = expr

    @property
    def steps(self) -> tuple[str | int, ...]:
        """The member names and indexes of a definite path (empty for ``$``)."""
        return self._steps or ()

    def find(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Select from ``data`` (or from ``context`` for a ``$$`` path).

        Args:
            data: the JSON document.
            context: the context object, for ``$$`` paths.

        Returns:
            The selected value (definite path) or the list of all matches (indefinite).

        Raises:
            PathNotFound: a definite path selected nothing, or the variable is not defined.
        """
        if self.variable is not None:
            data = self._variable_value(context)
        elif self.is_context:
            if context is None:
                raise PathNotFound(self.text, "no context object")
            data = public_context(context) if not self._steps else context
        finder = self._finder
        if finder is not None:
            try:
                return finder(data)
            except _Missing:
                raise PathNotFound(self.text) from None
        return [match.value for match in self._expr.find(data)]

    def _variable_value(self, context: Mapping[str, Any] | None) -> Any:
        variables = context.get(VARIABLES_KEY) if context is not None else None
        name = self.variable
        if variables is None or name not in variables:
            raise PathNotFound(self.text, f"the variable '${name}' is not defined")
        return variables[name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonPath) and type(other) is type(self) and other.text == self.text

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.text))


class ReferencePath(JsonPath):
    """A reference path: selects one node and can be written to (ResultPath, spec 5.3)."""

    __slots__ = ()

    def assign(self, document: Any, value: Any) -> Any:
        """Return a new document with ``value`` placed at this path (ResultPath semantics).

        ``$`` returns ``value``; missing intermediate members are created as objects. Only the
        objects/arrays along the path are copied; ``document`` is never mutated.

        Raises:
            PathAssignError: a step meets a non-object (member) or non-array / out-of-range
                index, or the path addresses the context object.
        """
        steps = self._steps or ()
        if self.is_context:
            raise PathAssignError(self.text, "the context object cannot be written")
        if self.variable is not None:
            raise PathAssignError(self.text, "a variable cannot be written by a path")
        if not steps:
            return value
        if len(steps) == 1:
            key = steps[0]
            if document.__class__ is dict and key.__class__ is str:
                new = document.copy()
                new[key] = value
                return new
        return self._assign(document, 0, value)

    def _assign(self, node: Any, i: int, value: Any) -> Any:
        steps = self._steps or ()
        key = steps[i]
        last = i + 1 == len(steps)
        if isinstance(key, str):
            if not isinstance(node, dict):
                raise PathAssignError(
                    self.text, f"cannot set field '{key}' on {_json_type(node)}"
                )
            new_dict = dict(node)
            if last:
                new_dict[key] = value
            else:
                child = node.get(key, _ABSENT)
                new_dict[key] = self._assign({} if child is _ABSENT else child, i + 1, value)
            return new_dict
        if not isinstance(node, list):
            raise PathAssignError(self.text, f"cannot set index [{key}] on {_json_type(node)}")
        if not -len(node) <= key < len(node):
            raise PathAssignError(
                self.text, f"index [{key}] is out of range for an array of {len(node)} items"
            )
        new_list = list(node)
        new_list[key] = value if last else self._assign(node[key], i + 1, value)
        return new_list


_ABSENT = object()


def _json_type(value: Any) -> str:
    """The JSON type of ``value`` with its article, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _split_context(text: str) -> tuple[str, bool, str | None]:
    """(body as a ``$``-rooted path, is a context path, variable name or None)."""
    if not isinstance(text, str):
        raise PathSyntaxError(f"a path must be a string, got {type(text).__name__}")
    if text.startswith("$$"):
        return text[1:], True, None
    if len(text) > 1 and text[0] == "$" and text[1] not in ".[":
        match = _VARIABLE.match(text)
        if match is not None:
            return "$" + text[match.end() :], False, match.group(1)
    return text, False, None


@lru_cache(maxsize=4096)
def compile_path(text: str) -> JsonPath:
    """Compile any JSONPath (``$.a``, ``$..x``, ``$.a[*].b``, ``$[?(@.x>1)]``, ``$$.Map``,
    ``$var.a``...).

    Reference paths compile to the fast evaluator (and are ReferencePath instances); the rest
    go through jsonpath_ng, parsed once here.

    Raises:
        PathSyntaxError: the text is not a path.
    """
    body, is_context, variable = _split_context(text)
    steps = _parse_steps(body)
    if isinstance(steps, tuple):
        return ReferencePath(text, is_context, steps, variable=variable)
    if not body.startswith("$"):
        raise PathSyntaxError(f"'{text}' is not a valid path: {steps}")
    try:
        expr = _jsonpath_parse(body)
    except Exception as exc:  # jsonpath_ng raises lexer, parser and plain exceptions
        raise PathSyntaxError(f"'{text}' is not a valid path: {exc}") from None
    return JsonPath(text, is_context, None, expr, variable)


@lru_cache(maxsize=4096)
def compile_reference_path(text: str) -> ReferencePath:
    """Compile a reference path: only ``$``, ``.name``, ``['name']`` and ``[index]`` steps.

    Wildcards, filters, slices, ``..`` and negative indexes are refused (spec 5.3).

    Raises:
        PathSyntaxError: the text is not a reference path; the message says why.
    """
    body, is_context, variable = _split_context(text)
    steps = _parse_steps(body)
    if isinstance(steps, str):
        raise PathSyntaxError(f"'{text}' is not a valid reference path: {steps}")
    for step in steps:
        if isinstance(step, int) and step < 0:
            raise PathSyntaxError(
                f"'{text}' is not a valid reference path: negative index [{step}]"
            )
    return ReferencePath(text, is_context, steps, variable=variable)

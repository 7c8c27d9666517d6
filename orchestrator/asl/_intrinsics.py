"""Intrinsic function calls (spec 5.5): parsing once, evaluating fast.

Grammar (JSONPath states only)::

    call   := 'States.' NAME '(' [ arg { ',' arg } ] ')'
    arg    := string | number | 'true' | 'false' | 'null' | path | call
    string := "'" { char | '\\' ( "'" | '{' | '}' | '\\' ) } "'"
    path   := '$' ... | '$$' ...        (ends at a top-level ',' or ')')

At most 10 calls may be nested in one field (AWS's documented limit). Inside a string
literal ``\\{`` and ``\\}`` are literal braces and never form a States.Format placeholder.
AWS documents exactly four escape sequences (``\\'``, ``\\{``, ``\\}``, ``\\\\``); a backslash before
any other character is refused when the call is compiled, so a definition holding one is
refused at create naming the state and field, never failed at run time (decision).

Randomness (States.UUID, States.MathRandom without a seed) comes from the object stored under
:data:`RANDOM_SOURCE_KEY` in the context mapping, else from a module-level ``random.Random``.
A definite path argument that selects nothing raises ``States.Runtime`` with AWS's
"The JSONPath '$.x' specified for the field '<field>' could not be found in the input '...'"
cause; ``evaluate(..., field=...)`` names the field (payload templates pass ``'key.$'``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from orchestrator.asl._intrinsic_functions import (
    FUNCTIONS,
    RANDOM_SOURCE_KEY,
    apply_format,
    compact_json,
    format_value,
    random_source,
)
from orchestrator.asl._paths import PathNotFound, PathSyntaxError, compile_path, public_context
from orchestrator.asl.errors import IntrinsicFailure, Runtime, StatesError

__all__ = [
    "FUNCTIONS",
    "RANDOM_SOURCE_KEY",
    "Intrinsic",
    "IntrinsicSyntaxError",
    "compile_intrinsic",
    "format_value",
    "is_intrinsic",
    "random_source",
]

MAX_NESTING = 10

_ArgEval = Callable[[Any, "Mapping[str, Any] | None"], Any]
_RESERVED_ESCAPES = frozenset("'{}\\")
_NUMBER_CHARS = frozenset("0123456789+-.eE")


def _show_json(value: Any) -> str:
    try:
        return compact_json(value)
    except (TypeError, ValueError):
        return str(value)


class IntrinsicSyntaxError(ValueError):
    """An intrinsic call that cannot be parsed; the message says where and why."""


class _StringLiteral:
    """A quoted string argument: its value and, for States.Format, its placeholder split."""

    __slots__ = ("value", "parts")

    def __init__(self, value: str, parts: list[str]) -> None:
        self.value = value
        self.parts = parts


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.uses_context = False

    def error(self, message: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"{message} at position {self.pos} of {self.text!r}")

    def skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        self.pos = pos

    def call(self, depth: int) -> Intrinsic:
        if depth > MAX_NESTING:
            raise self.error(f"more than {MAX_NESTING} nested intrinsic functions")
        text = self.text
        start = self.pos
        paren = text.find("(", start)
        if paren < 0:
            raise self.error("expected '(' after the function name")
        name = text[start:paren].strip()
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown intrinsic function {name!r} (known: {known})")
        self.pos = paren + 1
        args: list[Any] = []
        self.skip_ws()
        if self.pos < len(text) and text[self.pos] == ")":
            self.pos += 1
            return Intrinsic(name, args)
        while True:
            self.skip_ws()
            args.append(self.argument(depth))
            self.skip_ws()
            if self.pos >= len(text):
                raise self.error(f"missing ')' to close {name}(")
            char = text[self.pos]
            self.pos += 1
            if char == ")":
                return Intrinsic(name, args)
            if char != ",":
                self.pos -= 1
                raise self.error(f"expected ',' or ')' but found {char!r}")

    def argument(self, depth: int) -> Any:
        text = self.text
        if self.pos >= len(text):
            raise self.error("expected an argument")
        char = text[self.pos]
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if text.startswith("States.", self.pos):
            return self.call(depth + 1)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, self.pos):
                self.pos += len(word)
                return _Const(value)
        if char in _NUMBER_CHARS:
            start = self.pos
            while self.pos < len(text) and text[self.pos] in _NUMBER_CHARS:
                self.pos += 1
            try:
                number = json.loads(text[start : self.pos])
            except ValueError:
                literal = text[start : self.pos]
                self.pos = start
                raise self.error(f"invalid number {literal!r}") from None
            if not isinstance(number, (int, float)) or isinstance(number, bool):
                raise self.error("invalid number")
            return _Const(number)
        raise self.error(f"unexpected character {char!r} (expected a quoted string, number, "
                         "true, false, null, path or intrinsic function)")

    def string(self) -> _StringLiteral:
        text = self.text
        self.pos += 1
        chars: list[str] = []
        parts: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated string literal")
            char = text[self.pos]
            if char == "'":
                self.pos += 1
                break
            if char == "\\":
                if self.pos + 1 >= len(text):
                    raise self.error("unterminated string literal")
                escaped = text[self.pos + 1]
                if escaped not in _RESERVED_ESCAPES:
                    self.pos += 1
                    raise self.error(f"invalid escape sequence '\\{escaped}' in a string literal "
                                     "(only \\', \\{, \\} and \\\\ are allowed)")
                chars.append(escaped)
                self.pos += 2
                continue
            if char == "{" and text.startswith("}", self.pos + 1):
                parts.append("".join(chars))
                chars = []
                self.pos += 2
                continue
            chars.append(char)
            self.pos += 1
        parts.append("".join(chars))
        return _StringLiteral("{}".join(parts), parts)

    def path(self) -> Any:
        text = self.text
        start = self.pos
        brackets = parens = 0
        quote = ""
        while self.pos < len(text):
            char = text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"" and brackets:
                quote = char
            elif char == "[":
                brackets += 1
            elif char == "]":
                brackets -= 1
            elif char == "(":
                parens += 1
            elif char == ")":
                if parens == 0 and brackets == 0:
                    break
                parens -= 1
            elif char == "," and brackets == 0 and parens == 0:
                break
            self.pos += 1
        source = text[start : self.pos].rstrip()
        try:
            path = compile_path(source)
        except PathSyntaxError as exc:
            self.pos = start
            raise self.error(str(exc)) from None
        if path.needs_context:  # $$ or a variable: both read the context mapping
            self.uses_context = True
        return path


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _arg_evaluator(arg: Any) -> tuple[bool, Any, _ArgEval | None]:
    """(is_constant, constant, evaluator) for one parsed argument."""
    if isinstance(arg, _Const):
        return True, arg.value, None
    if isinstance(arg, _StringLiteral):
        return True, arg.value, None
    if isinstance(arg, Intrinsic):
        return False, None, arg.evaluate_raw
    find = arg.find
    return False, None, find


class Intrinsic:
    """A compiled intrinsic function call (spec 5.5).

    Attributes:
        text: the call as written (for nested calls: the function name).
        name: the function name, e.g. ``States.Format``.
        uses_context: some argument, at any depth, reads ``$$``.
    """

    __slots__ = ("text", "name", "uses_context", "_args", "_fn", "_format_parts")

    def __init__(self, name: str, args: list[Any]) -> None:
        self.text: str = name
        self.name: str = name
        self.uses_context: bool
        self._args = tuple(_arg_evaluator(a) for a in args)
        self._fn = FUNCTIONS[name]
        self.uses_context = any(
            (isinstance(a, Intrinsic) and a.uses_context)
            or (not isinstance(a, (_Const, _StringLiteral, Intrinsic)) and a.needs_context)
            for a in args
        )
        # States.Format with a literal template: the placeholders were found while parsing,
        # so escaped braces (\{ \}) never count as '{}'.
        self._format_parts: list[str] | None = None
        if name == "States.Format" and args and isinstance(args[0], _StringLiteral):
            self._format_parts = args[0].parts

    def evaluate(
        self, data: Any, context: Mapping[str, Any] | None = None, *, field: str | None = None
    ) -> Any:
        """Evaluate the call against ``data`` (``$``) and ``context`` (``$$``).

        Args:
            data: the state's (effective) input.
            context: the context object; may carry :data:`RANDOM_SOURCE_KEY`.
            field: the field name shown in a missing-path cause (default: the call text).

        Raises:
            IntrinsicFailure: wrong argument count or types (cause names the function,
                argument, value found and value expected).
            Runtime: a definite path argument selected nothing.
        """
        try:
            return self.evaluate_raw(data, context)
        except PathNotFound as exc:
            source: Any = data
            if exc.path.startswith("$$") and context is not None:
                source = public_context(context)
            raise Runtime(
                f"The JSONPath '{exc.path}' specified for the field "
                f"'{field if field is not None else self.text}' could not be found in the "
                f"input '{_show_json(source)}'"
            ) from None

    def evaluate_raw(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Like :meth:`evaluate` but a missing path argument raises :class:`PathNotFound`."""
        values = [
            const if is_const else fn(data, context)  # type: ignore[misc]
            for is_const, const, fn in self._args
        ]
        parts = self._format_parts
        try:
            if parts is not None:
                return apply_format(parts, values[1:])
            return self._fn(values, context)
        except (StatesError, PathNotFound):
            raise
        except Exception as exc:  # a bug or an exotic value must not escape as a crash
            raise IntrinsicFailure(f"{self.name} failed: {exc}") from None

    def __repr__(self) -> str:
        return f"Intrinsic({self.text!r})"


def is_intrinsic(text: Any) -> bool:
    """True when ``text`` is written as an intrinsic call (``States.X(...)``)."""
    return isinstance(text, str) and text.startswith("States.")


@lru_cache(maxsize=2048)
def compile_intrinsic(text: str) -> Intrinsic:
    """Parse an intrinsic call once.

    Raises:
        IntrinsicSyntaxError: unknown function, bad literal or path, unbalanced
            parentheses, trailing text, or more than 10 nested calls.
    """
    if not is_intrinsic(text):
        raise IntrinsicSyntaxError(f"{text!r} is not an intrinsic function call (States.X(...))")
    parser = _Parser(text)
    call = parser.call(1)
    parser.skip_ws()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the closing ')'")
    call.text = text
    return call

"""Payload templates: Parameters, ItemSelector, ResultSelector, BatchInput, Credentials (5.3).

A template is any JSON value. In an object, a key ending in ``.$`` takes a path (``$...``),
a context path (``$$...``) or an intrinsic call (``States.X(...)``) and the output key drops
the ``.$``; every other key and value is copied literally, recursively, also inside arrays.

The template is compiled once into a tree of small evaluators. Static sub-trees are returned
as the very same object on every evaluation (the engine never mutates JSON values in place),
so a template costs only the dictionaries that hold dynamic values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.asl._intrinsics import IntrinsicSyntaxError, compile_intrinsic, is_intrinsic
from orchestrator.asl._paths import PathNotFound, PathSyntaxError, compile_path, public_context
from orchestrator.asl.errors import Runtime, StatesError

_Eval = Callable[[Any, "Mapping[str, Any] | None"], Any]


class TemplateError(ValueError):
    """A template that cannot be compiled; the message names the offending key."""


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _not_found(path: str, field: str, source: Any) -> StatesError:
    if path.startswith("$$") and isinstance(source, Mapping):
        source = public_context(source)
    return Runtime(
        f"The JSONPath '{path}' specified for the field '{field}' could not be found in the "
        f"input '{_compact(source)}'"
    )


def _dynamic(key: str, expr: Any) -> tuple[_Eval, bool]:
    """Compile the value of a ``.$`` key; returns (evaluator, uses_context)."""
    if not isinstance(expr, str):
        raise TemplateError(
            f"The value of field '{key}' must be a path or an intrinsic function call "
            f"(a string), got {_compact(expr)}"
        )
    if is_intrinsic(expr):
        try:
            intrinsic = compile_intrinsic(expr)
        except IntrinsicSyntaxError as exc:
            raise TemplateError(f"Field '{key}': {exc}") from None
        fn = intrinsic.evaluate_raw

        def eval_intrinsic(data: Any, context: Mapping[str, Any] | None) -> Any:
            try:
                return fn(data, context)
            except PathNotFound as exc:
                source = context if exc.path.startswith("$$") else data
                raise _not_found(exc.path, key, source) from None

        return eval_intrinsic, intrinsic.uses_context
    if not expr.startswith("$"):
        raise TemplateError(
            f"The value of field '{key}' must be a path starting with '$' or an intrinsic "
            f"function call, got {_compact(expr)}"
        )
    try:
        path = compile_path(expr)
    except PathSyntaxError as exc:
        raise TemplateError(f"Field '{key}': {exc}") from None
    find = path.find
    if path.variable is not None:
        # A variable lives in the context mapping (private key), but the cause of a missing
        # one shows the state's data, as for any other path that selects nothing (decision).

        def eval_variable(data: Any, context: Mapping[str, Any] | None) -> Any:
            try:
                return find(data, context)
            except PathNotFound:
                raise _not_found(expr, key, data) from None

        return eval_variable, True
    if path.is_context:

        def eval_context(data: Any, context: Mapping[str, Any] | None) -> Any:
            try:
                return find(data, context)
            except PathNotFound:
                raise _not_found(expr, key, context) from None

        return eval_context, True
    if path.is_definite:
        # The hot path: inline the reference-path walk, no context handling.
        return _definite(path.steps, expr, key), False

    def eval_path(data: Any, context: Mapping[str, Any] | None) -> Any:
        return find(data)

    return eval_path, False


def _definite(steps: tuple[str | int, ...], expr: str, key: str) -> _Eval:
    if not steps:
        return lambda data, context: data
    if len(steps) == 1 and isinstance(steps[0], str):
        name = steps[0]

        def eval_member(data: Any, context: Mapping[str, Any] | None) -> Any:
            try:
                return data[name]
            except (KeyError, TypeError, IndexError):
                raise _not_found(expr, key, data) from None

        return eval_member

    def eval_steps(data: Any, context: Mapping[str, Any] | None) -> Any:
        node = data
        try:
            for step in steps:
                if step.__class__ is int and node.__class__ is not list:
                    raise KeyError(step)
                node = node[step]
        except (KeyError, TypeError, IndexError):
            raise _not_found(expr, key, data) from None
        return node

    return eval_steps


class _Node:
    """A compiled template node: either a shared literal or an evaluator."""

    __slots__ = ("literal", "fn", "uses_context")

    def __init__(self, literal: Any, fn: _Eval | None, uses_context: bool) -> None:
        self.literal = literal
        self.fn = fn
        self.uses_context = uses_context


def _compile(value: Any, where: str) -> _Node:
    if isinstance(value, dict):
        items: list[tuple[str, Any, _Eval | None]] = []
        seen: set[str] = set()
        dynamic = False
        uses_context = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise TemplateError(f"Template keys must be strings, got {key!r}")
            if key.endswith(".$"):
                out = key[:-2]
                fn, ctx = _dynamic(key, item)
                items.append((out, None, fn))
                dynamic = True
                uses_context = uses_context or ctx
            else:
                out = key
                node = _compile(item, key)
                items.append((out, node.literal, node.fn))
                dynamic = dynamic or node.fn is not None
                uses_context = uses_context or node.uses_context
            if out in seen:
                raise TemplateError(
                    f"Template {where!r} produces the field '{out}' twice "
                    f"(from '{out}' and '{out}.$')"
                )
            seen.add(out)
        if not dynamic:
            return _Node(value, None, False)
        return _Node(None, _object_evaluator(tuple(items)), uses_context)
    if isinstance(value, list):
        nodes = [_compile(item, where) for item in value]
        if all(node.fn is None for node in nodes):
            return _Node(value, None, False)
        parts = tuple((node.literal, node.fn) for node in nodes)
        return _Node(None, _array_evaluator(parts), any(n.uses_context for n in nodes))
    return _Node(value, None, False)


def _object_evaluator(items: tuple[tuple[str, Any, _Eval | None], ...]) -> _Eval:
    def evaluate_object(data: Any, context: Mapping[str, Any] | None) -> Any:
        out = {}
        for key, literal, fn in items:
            out[key] = literal if fn is None else fn(data, context)
        return out

    return evaluate_object


def _array_evaluator(parts: tuple[tuple[Any, _Eval | None], ...]) -> _Eval:
    def evaluate_array(data: Any, context: Mapping[str, Any] | None) -> Any:
        return [literal if fn is None else fn(data, context) for literal, fn in parts]

    return evaluate_array


class Template:
    """A compiled payload template (spec 5.3).

    Attributes:
        raw: the template as written in the definition.
        uses_context: some ``.$`` value reads ``$$`` or a variable, so the caller must pass
            the context (which carries the variables under a private key).
    """

    __slots__ = ("raw", "uses_context", "_literal", "_fn")

    def __init__(self, raw: Any) -> None:
        node = _compile(raw, "template")
        self.raw = raw
        self.uses_context = node.uses_context
        self._literal = node.literal
        self._fn = node.fn

    def evaluate(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Build the payload from ``data`` (``$``) and ``context`` (``$$``).

        Raises:
            Runtime: a definite path selected nothing (AWS's cause text, without the
                "An error occurred while executing the state" prefix).
            IntrinsicFailure: an intrinsic function was called with bad arguments.
        """
        fn = self._fn
        if fn is None:
            return self._literal
        return fn(data, context)

    def __repr__(self) -> str:
        return f"Template({self.raw!r})"


def compile_template(value: Any) -> Template:
    """Compile a payload template (any JSON value, nested objects and arrays).

    Raises:
        TemplateError: a ``.$`` value is not a path or intrinsic call, or a key repeats.
    """
    return Template(value)

"""JSONata values of JSONata states (spec 5.6): ``{% expr %}`` strings at any depth of a field.

A field's JSON value is compiled once (per definition, and each distinct expression text once
per process) into a :class:`JsonataTemplate`. Evaluating it binds the reserved ``$states``
variable (``input``, ``result``, ``errorOutput`` and ``context``) and the workflow variables
the expression names, and runs the expressions with the ``jsonatapy`` library (see
docs/decisions.md for the choice; the binding is in ``_jsonata_library``).

Any failure is ``States.QueryEvaluationError`` (catchable) naming the expression and the
field, as AWS's causes do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.asl._jsonata_library import (
    CONTEXT,
    check_syntax,
    compile_expression,
    library_message,
)
from orchestrator.asl._paths import PRIVATE_PREFIX, VARIABLES_KEY
from orchestrator.asl.errors import QUERY_EVALUATION_ERROR, StatesError

#: The parts of ``$states`` (``context`` is the public context object).
STATES_PARTS = ("input", "result", "errorOutput", "context")

_VARIABLE = re.compile(r"\$([^\W\d]\w*)")
_STATES_PART = re.compile(r"\$states\s*\.\s*(\w+)")



class QueryEvaluationError(StatesError):
    """``States.QueryEvaluationError``: a JSONata expression failed or gave a wrong value."""

    def __init__(self, cause: str = "") -> None:
        super().__init__(QUERY_EVALUATION_ERROR, cause)


def is_jsonata(value: Any) -> bool:
    """True for a JSONata expression string: ``{%`` ... ``%}`` with nothing around."""
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


def contains_jsonata(value: Any) -> bool:
    """Whether a JSON value holds a ``{% %}`` string anywhere."""
    if isinstance(value, str):
        return is_jsonata(value)
    if isinstance(value, Mapping):
        return any(contains_jsonata(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_jsonata(v) for v in value)
    return False


def type_name(value: Any) -> str:
    """A JSON value's type as AWS's causes name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


# -- compiled values --------------------------------------------------------------------------


class _Expression:
    """One ``{% %}`` string: the compiled expression and what it reads."""

    __slots__ = ("source", "text", "parts", "names", "random")

    def __init__(self, source: str) -> None:
        self.source = source
        self.text = source[2:-2].strip()
        check_syntax(self.text)  # a syntax error surfaces when the definition is parsed
        used = set(_STATES_PART.findall(self.text))
        bare = self.text.count("$states") > len(_STATES_PART.findall(self.text))
        self.parts = STATES_PARTS if bare else tuple(p for p in STATES_PARTS if p in used)
        self.names = tuple(sorted({n for n in _VARIABLE.findall(self.text) if n != "states"}))
        # $random/$uuid draw from the context's random source, $now/$millis read its time.
        self.random = any(f in self.text for f in ("$random", "$uuid", "$now", "$millis"))

    def bind(self, states: Mapping[str, Any], ctx: Mapping[str, Any] | None) -> dict[str, Any]:
        """The variables the expression reads: ``$states`` parts and workflow variables."""
        bound: dict[str, Any] = {}
        if self.parts:
            part: dict[str, Any] = {}
            for name in self.parts:
                if name == "context":
                    if ctx is not None:
                        part["context"] = {k: v for k, v in ctx.items()
                                           if not k.startswith(PRIVATE_PREFIX)}
                elif name in states:
                    part[name] = states[name]
            bound["states"] = part
        if self.names and ctx is not None:
            variables = ctx.get(VARIABLES_KEY)
            if variables:
                for name in self.names:
                    if name in variables:
                        bound[name] = variables[name]
        return bound

    def run(self, states: Mapping[str, Any], ctx: Mapping[str, Any] | None, field: str) -> Any:
        bound = self.bind(states, ctx)
        token = CONTEXT.set(ctx) if self.random else None
        try:
            compiled = compile_expression(self.text)
            value = compiled.evaluate(None, bound)
            if value is None and compiled.evaluate_json_or_none(None, bound) is None:
                raise QueryEvaluationError(
                    f"The JSONata expression '{self.text}' specified for the field '{field}' "
                    "returned nothing (undefined)."
                )
        except ValueError as exc:
            raise QueryEvaluationError(
                f"An error occurred while evaluating the JSONata expression '{self.text}' "
                f"specified for the field '{field}': {library_message(exc)}"
            ) from None
        finally:
            if token is not None:
                CONTEXT.reset(token)
        return value


_Eval = Callable[[Mapping[str, Any], "Mapping[str, Any] | None"], Any]


def _object_text(value: Any, dynamic: list[tuple[str, ...]], at: tuple[str, ...]) -> str | None:
    """``value`` (an object of expressions and literals) as one JSONata object constructor,
    collecting the key paths of its expressions; None when it cannot be combined (an
    expression inside an array: JSONata's array constructor would flatten sequences)."""
    if isinstance(value, str) and is_jsonata(value):
        dynamic.append(at)
        return "(" + value[2:-2] + ")"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            text = _object_text(item, dynamic, (*at, key))
            if text is None:
                return None
            parts.append(json.dumps(key) + ": " + text)
        return "{" + ", ".join(parts) + "}"
    if contains_jsonata(value):
        return None
    return json.dumps(value)


class _Combined:
    """An object of several expressions evaluated as one JSONata object constructor: one
    library call per evaluation instead of one per expression (the ItemSelector hot path).
    When it fails or a key comes back undefined, the per-expression evaluator runs instead,
    so errors name the failing expression exactly as without the combination."""

    __slots__ = ("expr", "dynamic", "fallback")

    def __init__(self, text: str, dynamic: list[tuple[str, ...]], fallback: _Eval) -> None:
        self.expr = _Expression("{%" + text + "%}")
        self.dynamic = tuple(dynamic)
        self.fallback = fallback

    def __call__(self, states: Mapping[str, Any], ctx: Mapping[str, Any] | None) -> Any:
        expr = self.expr
        token = CONTEXT.set(ctx) if expr.random else None
        try:
            value = compile_expression(expr.text).evaluate(None, expr.bind(states, ctx))
        except ValueError:
            value = None
        finally:
            if token is not None:
                CONTEXT.reset(token)
        if value is None or not all(_present(value, at) for at in self.dynamic):
            return self.fallback(states, ctx)
        return value


def _present(value: Any, at: tuple[str, ...]) -> bool:
    for key in at:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _compile(value: Any, field: str) -> tuple[Any, _Eval | None]:
    """(literal, None) for a static value, else (None, evaluator)."""
    if isinstance(value, str):
        if not is_jsonata(value):
            return value, None
        expr = _Expression(value)
        return None, lambda states, ctx: expr.run(states, ctx, field)
    if isinstance(value, dict):
        items = [(key, *_compile(item, field)) for key, item in value.items()]
        if all(fn is None for _, _, fn in items):
            return value, None

        def evaluate_object(states: Mapping[str, Any], ctx: Mapping[str, Any] | None) -> Any:
            return {key: literal if fn is None else fn(states, ctx)
                    for key, literal, fn in items}

        dynamic: list[tuple[str, ...]] = []
        text = _object_text(value, dynamic, ())
        if text is not None and len(dynamic) > 1:
            return None, _Combined(text, dynamic, evaluate_object)
        return None, evaluate_object
    if isinstance(value, list):
        parts = [_compile(item, field) for item in value]
        if all(fn is None for _, fn in parts):
            return value, None

        def evaluate_array(states: Mapping[str, Any], ctx: Mapping[str, Any] | None) -> Any:
            return [literal if fn is None else fn(states, ctx) for literal, fn in parts]

        return None, evaluate_array
    return value, None


class JsonataTemplate:
    """A field value of a JSONata state, compiled once.

    ``evaluate(data, ctx)`` binds ``$states.input`` to ``data`` (the interface of the
    JSONPath :class:`~orchestrator.asl._template.Template`, so Arguments, ItemSelector,
    ItemReader/ResultWriter Arguments and BatchInput go where Parameters went);
    :meth:`evaluate_states` takes every ``$states`` part. ``ctx`` is the context mapping
    (``$states.context``, plus the variables and the random source under private keys).
    """

    __slots__ = ("raw", "field", "is_static", "_literal", "_fn")

    #: JSONata values may read variables and the context: the caller builds the context.
    uses_context = True

    def __init__(self, raw: Any, field: str) -> None:
        try:
            literal, fn = _compile(raw, field)
        except ValueError as exc:
            raise ValueError(f"Invalid JSONata expression in field '{field}': {exc}") from None
        self.raw = raw
        self.field = field
        self.is_static = fn is None
        self._literal = literal
        self._fn = fn

    def evaluate(self, data: Any, ctx: Mapping[str, Any] | None = None) -> Any:
        """The value with ``$states.input`` = ``data``."""
        fn = self._fn
        if fn is None:
            return self._literal
        return fn({"input": data}, ctx)

    def evaluate_states(self, states: Mapping[str, Any], ctx: Mapping[str, Any] | None) -> Any:
        """The value with the given ``$states`` parts."""
        fn = self._fn
        if fn is None:
            return self._literal
        return fn(states, ctx)

    def __repr__(self) -> str:
        return f"JsonataTemplate({self.raw!r})"


def compile_jsonata(raw: Any, field: str) -> JsonataTemplate:
    """Compile a JSONata state's field value (any JSON, ``{% %}`` strings at any depth).

    Raises:
        ValueError: an expression does not parse (the message names the field).
    """
    return JsonataTemplate(raw, field)


class JsonataCondition:
    """A JSONata Choice rule's ``Condition``: an expression (or literal) that must be boolean."""

    __slots__ = ("template",)

    def __init__(self, template: JsonataTemplate) -> None:
        self.template = template

    def matches(self, data: Any, ctx: Mapping[str, Any] | None = None) -> bool:
        """Evaluate with ``$states.input`` = ``data``.

        Raises:
            QueryEvaluationError: the value is not a boolean, or evaluation failed.
        """
        value = self.template.evaluate(data, ctx)
        if not isinstance(value, bool):
            raise unexpected_type(self.template, value, "boolean")
        return value


def resolve_number(
    value: Any, data: Any, ctx: Mapping[str, Any] | None, *, low: float = 0,
    high: float | None = None, integer: bool = True,
) -> Any:
    """A numeric field that may be a JSONata value: evaluate it and check type and range.

    Literal values are returned as they are (the validator checked them).

    Raises:
        QueryEvaluationError: not a number (not an integer when ``integer``), or out of range.
    """
    if not isinstance(value, JsonataTemplate):
        return value
    result = value.evaluate(data, ctx)
    numeric = isinstance(result, (int, float)) and not isinstance(result, bool)
    if integer and numeric and isinstance(result, float) and result.is_integer():
        result = int(result)
    if not numeric or (integer and not isinstance(result, int)):
        raise unexpected_type(value, result, "integer" if integer else "number")
    if result < low or (high is not None and result > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise QueryEvaluationError(
            f"The JSONata expression '{_text(value)}' specified for the field '{value.field}' "
            f"returned the value {_compact(result)}, which is out of range: it must be {bound}."
        )
    return result


def _text(template: JsonataTemplate) -> str:
    raw = template.raw
    return raw[2:-2].strip() if is_jsonata(raw) else _compact(raw)


def unexpected_type(template: JsonataTemplate, value: Any, expected: str) -> StatesError:
    """AWS's error for an expression whose value has the wrong type for its field."""
    return QueryEvaluationError(
        f"The JSONata expression '{_text(template)}' specified for the field '{template.field}' returned "
        f"an unexpected result type. Expected '{expected}', but was '{type_name(value)}' for "
        f"value: {_compact(value)}"
    )


__all__ = [
    "JsonataCondition",
    "JsonataTemplate",
    "QueryEvaluationError",
    "compile_jsonata",
    "contains_jsonata",
    "is_jsonata",
    "resolve_number",
    "type_name",
    "unexpected_type",
]

"""JSONata parts of the Map state (spec 5.6): ``Items``, the ItemSelector of either query
language as one compiled object, and the ItemProcessor JSON a Map Run's children run."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from orchestrator.asl._jsonata import (
    JsonataTemplate,
    QueryEvaluationError,
    compile_jsonata,
    unexpected_type,
)
from orchestrator.asl._paths import VARIABLES_KEY
from orchestrator.asl._template import Template, compile_template
from orchestrator.asl.model import JSONATA, JSONPATH, MapState


def jsonata_items(st: MapState, data: Any, ctx: Mapping[str, Any] | None) -> Any:
    """The items of a JSONata Map: ``Items`` evaluated with ``$states.input``, or the input.

    Raises:
        QueryEvaluationError: the items are not an array (AWS's causes, observed).
    """
    if st.items is None:
        if not isinstance(data, list):
            raise QueryEvaluationError("Map state input must be an array")
        return data
    items = st.items.evaluate(data, ctx)
    if not isinstance(items, list):
        raise unexpected_type(st.items, items, "array")
    return items


_VARIABLE = re.compile(r"\$([^\W\d]\w*)")


class _WithVariables:
    """An ItemSelector evaluated with the workflow variables it reads (a Distributed Map's
    selector runs in the coordinator, away from the execution's variables)."""

    __slots__ = ("inner", "variables")

    def __init__(self, inner: Template | JsonataTemplate, variables: Mapping[str, Any]) -> None:
        self.inner = inner
        self.variables = variables

    def evaluate(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        ctx = dict(context or {})
        ctx[VARIABLES_KEY] = self.variables
        return self.inner.evaluate(data, ctx)


def compile_item_selector(
    raw: Any, query_language: str = JSONPATH, variables: Mapping[str, Any] | None = None
) -> Template | JsonataTemplate | _WithVariables:
    """Compile a Map state's ItemSelector for its query language.

    The result has ``evaluate(map_input, context)``, where ``context`` carries
    ``Map.Item`` (``$$.Map.Item`` in JSONPath, ``$states.context.Map.Item`` in JSONata) and
    the map input is ``$`` / ``$states.input``. A Distributed Map's feeder calls this once
    per Map Run with the request's ``query_language`` and ``variables``.

    Raises:
        ValueError: the selector does not compile.
    """
    selector: Template | JsonataTemplate
    if query_language == JSONATA:
        selector = compile_jsonata(raw, "ItemSelector")
    else:
        selector = compile_template(raw)
    return _WithVariables(selector, variables) if variables else selector


def selector_variables(raw: Any, variables: Mapping[str, Any]) -> dict[str, Any] | None:
    """The workflow variables an ItemSelector names (carried to a Distributed Map's feeder:
    its children cannot read the parent's variables, but the selector can, spec 5.6)."""
    names = set(_VARIABLE.findall(json_text(raw))) - {"states"}
    found = {name: variables[name] for name in sorted(names) if name in variables}
    return found or None


def json_text(value: Any) -> str:
    """Every string of a JSON value, joined (where ``$name`` references may appear)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return " ".join(json_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(json_text(v) for v in value)
    return ""


def processor_json(st: MapState) -> dict[str, Any]:
    """The ItemProcessor as a machine definition for the children, carrying the QueryLanguage
    its states inherit inside the parent (the parent's top level)."""
    processor = dict(st.processor_raw)
    if st.processor.query_language == JSONATA and "QueryLanguage" not in processor:
        processor["QueryLanguage"] = JSONATA
    return processor


__all__ = ["compile_item_selector", "jsonata_items", "processor_json", "selector_variables"]

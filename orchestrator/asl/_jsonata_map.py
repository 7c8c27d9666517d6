"""JSONata parts of the Map state (spec 5.6): ``Items``, the ItemSelector of either query
language as one compiled object, and the ItemProcessor JSON a Map Run's children run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.asl._jsonata import (
    JsonataTemplate,
    QueryEvaluationError,
    compile_jsonata,
    unexpected_type,
)
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


def compile_item_selector(raw: Any, query_language: str = JSONPATH) -> Template | JsonataTemplate:
    """Compile a Map state's ItemSelector for its query language.

    The result has ``evaluate(map_input, context)``, where ``context`` carries
    ``Map.Item`` (``$$.Map.Item`` in JSONPath, ``$states.context.Map.Item`` in JSONata) and
    the map input is ``$`` / ``$states.input``. A Distributed Map's feeder calls this once
    per Map Run with the request's ``query_language``.

    Raises:
        ValueError: the selector does not compile.
    """
    if query_language == JSONATA:
        return compile_jsonata(raw, "ItemSelector")
    return compile_template(raw)


def processor_json(st: MapState) -> dict[str, Any]:
    """The ItemProcessor as a machine definition for the children, carrying the QueryLanguage
    its states inherit inside the parent (the parent's top level)."""
    processor = dict(st.processor_raw)
    if st.processor.query_language == JSONATA and "QueryLanguage" not in processor:
        processor["QueryLanguage"] = JSONATA
    return processor


__all__ = ["compile_item_selector", "jsonata_items", "processor_json"]

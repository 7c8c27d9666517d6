"""The JSONPath input/output processing fields shared by states (spec 5.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.asl._jsonata import JsonataTemplate
    from orchestrator.asl._paths import JsonPath, ReferencePath
    from orchestrator.asl._template import Template


@dataclass(frozen=True, slots=True)
class StateIO:
    """Compiled InputPath, Parameters, ResultSelector, ResultPath and OutputPath of a state.

    ``InputPath``/``OutputPath``: ``None`` means ``$`` (identity); ``*_null`` means the field was
    JSON ``null`` (the value becomes ``{}``). ``ResultPath``: ``None`` means ``$`` (the result
    replaces the input); ``result_discard`` means ``null`` (the raw input is kept).
    ``uses_context`` is true when any of these reads ``$$`` (the context object is then built).

    A JSONata state (``jsonata``) has none of the path fields: ``parameters`` holds its
    ``Arguments`` and ``output`` its ``Output`` (spec 5.6).
    """

    input_path: JsonPath | None = None
    input_null: bool = False
    parameters: Template | JsonataTemplate | None = None
    result_selector: Template | None = None
    result_path: ReferencePath | None = None
    result_discard: bool = False
    output_path: JsonPath | None = None
    output_null: bool = False
    uses_context: bool = False
    output: JsonataTemplate | None = None
    jsonata: bool = False


DEFAULT_IO = StateIO()

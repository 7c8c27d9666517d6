"""validate_definition checks path, reference-path and intrinsic syntax with the engine's own
compilers (orchestrator.asl._paths and _intrinsics), so a definition that validates compiles."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.asl._validate import validate_definition

SCHEMA = "SCHEMA_VALIDATION_FAILED"


def machine(state: dict[str, Any]) -> dict[str, Any]:
    """A one-state machine around ``state`` (a Pass unless it says otherwise)."""
    return {"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True, **state}}}


def map_machine(**fields: Any) -> dict[str, Any]:
    """A one-state machine around an Inline Map with extra ``fields``."""
    return machine({"Type": "Map", "ItemProcessor": {
        "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}, **fields})


REJECTED: list[tuple[str, dict[str, Any], str, str]] = [
    ("input_path_unclosed_bracket", machine({"InputPath": "$.a["}), "/States/S/InputPath",
     "$.a["),
    ("output_path_garbage", machine({"OutputPath": "$.a b"}), "/States/S/OutputPath", "$.a b"),
    ("result_path_wildcard", machine({"ResultPath": "$.a[*]"}), "/States/S/ResultPath",
     "$.a[*]"),
    ("result_path_recursive_descent", machine({"ResultPath": "$..a"}), "/States/S/ResultPath",
     "$..a"),
    ("result_path_slice", machine({"ResultPath": "$.a[0:2]"}), "/States/S/ResultPath",
     "$.a[0:2]"),
    ("items_path_filter", map_machine(ItemsPath="$[?(@.x>1)]"), "/States/S/ItemsPath",
     "$[?(@.x>1)]"),
    ("items_path_wildcard", map_machine(ItemsPath="$.items[*]"), "/States/S/ItemsPath",
     "$.items[*]"),
    ("max_concurrency_path_wildcard", map_machine(MaxConcurrencyPath="$.c[*]"),
     "/States/S/MaxConcurrencyPath", "$.c[*]"),
    ("seconds_path_wildcard",
     machine({"Type": "Wait", "SecondsPath": "$.s[*]", "End": True}), "/States/S/SecondsPath",
     "$.s[*]"),
    ("parameters_broken_path", machine({"Parameters": {"a.$": "$.x["}}),
     "/States/S/Parameters/a.$", "$.x["),
    ("parameters_unknown_intrinsic", machine({"Parameters": {"a.$": "States.Nope($.x)"}}),
     "/States/S/Parameters/a.$", "States.Nope"),
    ("parameters_unclosed_intrinsic", machine({"Parameters": {"a.$": "States.Format('{}', $.x"}}),
     "/States/S/Parameters/a.$", "States.Format"),
    ("fail_error_path_broken_intrinsic",
     {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "States.Format('{}'"}}},
     "/States/F/ErrorPath", "States.Format"),
    ("choice_variable_broken",
     {"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
         {"Variable": "$.a[", "IsPresent": True, "Next": "D"}]}, "D": {"Type": "Succeed"}}},
     "/States/C/Choices/0/Variable", "$.a["),
    ("choice_path_operand_wildcard",
     {"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
         {"Variable": "$.a", "NumericEqualsPath": "$.b[*]", "Next": "D"}]},
         "D": {"Type": "Succeed"}}},
     "/States/C/Choices/0/NumericEqualsPath", "$.b[*]"),
]

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("input_path_slice_and_filter", machine({"InputPath": "$.a[0:2]",
                                             "OutputPath": "$[?(@.x>1)]"})),
    ("bracket_notation", machine({"InputPath": "$['a b'][0]", "ResultPath": "$['c d'].e"})),
    ("context_paths", machine({"InputPath": "$$.Execution.Input",
                               "Parameters": {"id.$": "$$.Execution.Id"}})),
    ("variables", machine({"InputPath": "$config.input",
                           "Parameters": {"limit.$": "$limit"}})),
    ("intrinsics", machine({"Parameters": {
        "a.$": "States.Format('{} and {}', $.x, States.JsonToString($.y))",
        "b.$": "States.ArrayRange(1, 9, 2)", "c.$": "States.UUID()"}})),
    ("result_selector_recursive_descent", machine({"Type": "Task", "Resource": "arn:aws:states:::test:r",
                                                   "ResultSelector": {"ids.$": "$..id"}})),
    ("items_path_from_context", map_machine(ItemsPath="$$.Execution.Input.items")),
    ("fail_paths_with_allowed_intrinsics",
     {"StartAt": "F", "States": {"F": {"Type": "Fail",
                                       "ErrorPath": "States.Format('E{}', $.code)",
                                       "CausePath": "States.JsonToString($.detail)"}}}),
]


@pytest.mark.parametrize(("document", "path", "value"), [c[1:] for c in REJECTED],
                         ids=[c[0] for c in REJECTED])
def test_bad_path_syntax_is_rejected(document: dict[str, Any], path: str, value: str) -> None:
    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [(path, SCHEMA)]
    assert value in problems[0].message
    assert path.rsplit("/", 1)[1] in problems[0].message


@pytest.mark.parametrize("document", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_good_path_syntax_is_accepted(document: dict[str, Any]) -> None:
    assert validate_definition(document) == []

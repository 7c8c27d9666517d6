"""validate_definition: top level, graph, common fields, the state types, Retry and Catch.

Table-driven: each case mutates a valid base definition (tests/fixtures/asl/valid/) and states
the exact problems expected as (JSON Pointer, code), plus words the first message must contain
(the field name and the bad value).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asl._validate import validate_definition

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "asl"
DELETE = object()
SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"

_cache: dict[str, str] = {}


def load(name: str) -> dict[str, Any]:
    """A fresh copy of a fixture definition (``valid/x`` or ``invalid/x``, no extension)."""
    if name not in _cache:
        _cache[name] = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(_cache[name])
    return result


def mutate(document: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    """Apply (JSON Pointer, value) changes to a copy; value DELETE removes the key."""
    out = copy.deepcopy(document)
    for pointer, value in changes:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        node: Any = out
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is DELETE:
            del node[last]
        else:
            node[last] = value
    return out


def problems_of(document: Any, **kwargs: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in validate_definition(document, **kwargs)]


BASE = "valid/jsonpath_every_state_type"

# (id, changes, expected [(path, code)], words the first message must contain)
REJECTED: list[tuple[str, list[tuple[str, Any]], list[tuple[str, str]], tuple[str, ...]]] = [
    # --- top level
    ("start_at_missing", [("/StartAt", DELETE)], [("", SCHEMA)], ("StartAt",)),
    ("start_at_not_string", [("/StartAt", 5)], [("/StartAt", SCHEMA)], ("StartAt", "5")),
    ("start_at_names_no_state", [("/StartAt", "Nope")], [("/StartAt", TARGET)], ("Nope",)),
    ("states_missing", [("/States", DELETE)], [("", SCHEMA)], ("States",)),
    ("states_empty", [("/States", {})], [("/States", SCHEMA)], ("States", "{}")),
    ("timeout_zero", [("/TimeoutSeconds", 0)], [("/TimeoutSeconds", SCHEMA)],
     ("TimeoutSeconds", "0")),
    ("timeout_not_int", [("/TimeoutSeconds", 1.5)], [("/TimeoutSeconds", SCHEMA)],
     ("TimeoutSeconds", "1.5")),
    ("query_language_unknown", [("/QueryLanguage", "XPath")], [("/QueryLanguage", SCHEMA)],
     ("QueryLanguage", "XPath", "JSONata")),
    ("unknown_top_level_field", [("/Colour", "blue")], [("", SCHEMA)], ("Colour",)),
    ("version_not_string", [("/Version", 1)], [("/Version", SCHEMA)], ("Version", "1")),
    ("comment_not_string", [("/Comment", 5)], [("/Comment", SCHEMA)], ("Comment", "5")),
    # --- common state fields
    ("unknown_state_field", [("/States/Start/Colour", 1)], [("/States/Start", SCHEMA)],
     ("Colour",)),
    ("retry_on_pass", [("/States/Start/Retry", [])], [("/States/Start", SCHEMA)], ("Retry",)),
    ("catch_on_wait", [("/States/Pause/Catch", [])], [("/States/Pause", SCHEMA)], ("Catch",)),
    ("timeout_on_map", [("/States/Each/TimeoutSeconds", 5)], [("/States/Each", SCHEMA)],
     ("TimeoutSeconds",)),
    ("type_missing", [("/States/Pause/Type", DELETE)], [("/States/Pause", SCHEMA)], ("Type",)),
    ("type_unknown", [("/States/Pause/Type", "Sleep")], [("/States/Pause/Type", SCHEMA)],
     ("Type", "Sleep")),
    ("state_not_object", [("/States/Pause", [])], [("/States/Pause", SCHEMA)], ("Pause", "[]")),
    ("next_and_end", [("/States/Pause/End", True)], [("/States/Pause", SCHEMA)],
     ("Next", "End")),
    ("neither_next_nor_end", [("/States/Pause/Next", DELETE)], [("/States/Pause", SCHEMA)],
     ("Next", "End")),
    ("end_false", [("/States/Pause/Next", DELETE), ("/States/Pause/End", False)],
     [("/States/Pause/End", SCHEMA)], ("End", "false")),
    ("next_not_string", [("/States/Pause/Next", 3)],
     [("/States/Pause/Next", SCHEMA)], ("Next", "3")),
    ("choice_with_end", [("/States/Decide/End", True)], [("/States/Decide", SCHEMA)], ("End",)),
    ("succeed_with_next", [("/States/Done/Next", "Start")], [("/States/Done", SCHEMA)],
     ("Next",)),
    ("fail_with_input_path", [("/States/Failed/InputPath", "$")], [("/States/Failed", SCHEMA)],
     ("InputPath",)),
    ("input_path_not_path", [("/States/Start/InputPath", "x")],
     [("/States/Start/InputPath", SCHEMA)], ("InputPath", '"x"')),
    ("output_path_not_string", [("/States/Start/OutputPath", 1)],
     [("/States/Start/OutputPath", SCHEMA)], ("OutputPath", "1")),
    ("result_path_context", [("/States/Start/ResultPath", "$$.Execution")],
     [("/States/Start/ResultPath", SCHEMA)], ("ResultPath", "$$.Execution")),
    ("result_path_variable", [("/States/Start/ResultPath", "$var")],
     [("/States/Start/ResultPath", SCHEMA)], ("ResultPath", "$var")),
    ("parameters_dollar_key_not_path", [("/States/Start/Parameters/a.$", "x")],
     [("/States/Start/Parameters/a.$", SCHEMA)], ("a.$", "Parameters", '"x"')),
    ("parameters_nested_dollar_key_not_string", [("/States/Start/Parameters/fixed/1/b.$", 7)],
     [("/States/Start/Parameters/fixed/1/b.$", SCHEMA)], ("b.$", "7")),
    ("result_selector_not_object", [("/States/Work/ResultSelector", [1])],
     [("/States/Work/ResultSelector", SCHEMA)], ("ResultSelector", "[1]")),
    ("assign_not_object", [("/States/Start/Assign", 3)], [("/States/Start/Assign", SCHEMA)],
     ("Assign", "3")),
    ("state_comment_not_string", [("/States/Start/Comment", 3)],
     [("/States/Start/Comment", SCHEMA)], ("Comment", "3")),
    # --- graph
    ("next_target_missing", [("/States/Pause/Next", "Nowhere")],
     [("/States/Pause/Next", TARGET)], ("Missing 'Next' target: Nowhere",)),
    ("choice_rule_target_missing", [("/States/Decide/Choices/1/Next", "Nowhere")],
     [("/States/Decide/Choices/1/Next", TARGET)], ("Nowhere",)),
    ("choice_default_target_missing", [("/States/Decide/Default", "Nowhere")],
     [("/States/Decide/Default", TARGET)], ("Nowhere",)),
    ("catch_target_missing", [("/States/Work/Catch/0/Next", "Nowhere")],
     [("/States/Work/Catch/0/Next", TARGET)], ("Nowhere",)),
    ("unreachable_state", [("/States/Orphan", {"Type": "Succeed"})],
     [("/States/Orphan", TARGET)], ('State "Orphan" is not reachable.',)),
    ("only_reachable_through_missing_transition", [("/States/Decide/Choices/0/Next", "Fan")],
     [("/States/Pause", TARGET)], ("Pause",)),
    ("branch_state_shares_name_with_outer_state",
     [("/States/Fan/Branches/0", {"StartAt": "Start",
                                  "States": {"Start": {"Type": "Pass", "End": True}}})],
     [("/States/Fan/Branches/0/States/Start", "DUPLICATE_STATE_NAME")], ("Start",)),
    ("state_name_too_long",
     [("/States/Pause/Next", "x" * 81), ("/States/" + "x" * 81, {"Type": "Succeed"})],
     [("/States/" + "x" * 81, "INVALID_STATE_NAME")], ("81",)),
    # --- Task
    ("task_resource_missing", [("/States/Work/Resource", DELETE)], [("/States/Work", SCHEMA)],
     ("Resource",)),
    ("task_resource_not_string", [("/States/Work/Resource", 5)],
     [("/States/Work/Resource", "INVALID_RESOURCE")], ("Resource", "5")),
    ("task_timeout_zero", [("/States/Work/TimeoutSeconds", 0),
                           ("/States/Work/HeartbeatSeconds", DELETE)],
     [("/States/Work/TimeoutSeconds", SCHEMA)], ("TimeoutSeconds", "0")),
    ("task_timeout_string", [("/States/Work/TimeoutSeconds", "60")],
     [("/States/Work/TimeoutSeconds", SCHEMA)], ("TimeoutSeconds", '"60"')),
    ("task_timeout_and_path", [("/States/Work/TimeoutSecondsPath", "$.t")],
     [("/States/Work", SCHEMA)], ("TimeoutSeconds", "TimeoutSecondsPath")),
    ("task_heartbeat_and_path", [("/States/Work/HeartbeatSecondsPath", "$.h")],
     [("/States/Work", SCHEMA)], ("HeartbeatSeconds", "HeartbeatSecondsPath")),
    ("task_heartbeat_not_below_timeout", [("/States/Work/HeartbeatSeconds", 60)],
     [("/States/Work/HeartbeatSeconds", SCHEMA)], ("HeartbeatSeconds", "60")),
    ("task_heartbeat_zero", [("/States/Work/HeartbeatSeconds", 0)],
     [("/States/Work/HeartbeatSeconds", SCHEMA)], ("HeartbeatSeconds", "0")),
    ("task_timeout_path_not_path", [("/States/Work/TimeoutSeconds", DELETE),
                                    ("/States/Work/TimeoutSecondsPath", "t")],
     [("/States/Work/TimeoutSecondsPath", SCHEMA)], ("TimeoutSecondsPath", '"t"')),
    ("task_credentials_not_object", [("/States/Work/Credentials", "role")],
     [("/States/Work/Credentials", SCHEMA)], ("Credentials", '"role"')),
    # --- Retry
    ("retry_not_array", [("/States/Work/Retry", {})], [("/States/Work/Retry", SCHEMA)],
     ("Retry", "{}")),
    ("retrier_not_object", [("/States/Work/Retry/0", "x")], [("/States/Work/Retry/0", SCHEMA)],
     ("Retry[0]", '"x"')),
    ("retry_error_equals_missing", [("/States/Work/Retry/0/ErrorEquals", DELETE)],
     [("/States/Work/Retry/0", SCHEMA)], ("ErrorEquals",)),
    ("retry_error_equals_empty", [("/States/Work/Retry/0/ErrorEquals", [])],
     [("/States/Work/Retry/0/ErrorEquals", SCHEMA)], ("ErrorEquals", "[]")),
    ("retry_error_equals_not_strings", [("/States/Work/Retry/0/ErrorEquals", [5])],
     [("/States/Work/Retry/0/ErrorEquals/0", SCHEMA)], ("ErrorEquals", "5")),
    ("retry_interval_zero", [("/States/Work/Retry/0/IntervalSeconds", 0)],
     [("/States/Work/Retry/0/IntervalSeconds", SCHEMA)], ("IntervalSeconds", "0")),
    ("retry_interval_too_big", [("/States/Work/Retry/0/IntervalSeconds", 100_000_000)],
     [("/States/Work/Retry/0/IntervalSeconds", SCHEMA)], ("IntervalSeconds", "100000000")),
    ("retry_max_attempts_negative", [("/States/Work/Retry/0/MaxAttempts", -1)],
     [("/States/Work/Retry/0/MaxAttempts", SCHEMA)], ("MaxAttempts", "-1")),
    ("retry_max_attempts_fraction", [("/States/Work/Retry/0/MaxAttempts", 1.5)],
     [("/States/Work/Retry/0/MaxAttempts", SCHEMA)], ("MaxAttempts", "1.5")),
    ("retry_backoff_below_one", [("/States/Work/Retry/0/BackoffRate", 0.5)],
     [("/States/Work/Retry/0/BackoffRate", SCHEMA)], ("BackoffRate", "0.5")),
    ("retry_backoff_boolean", [("/States/Work/Retry/0/BackoffRate", True)],
     [("/States/Work/Retry/0/BackoffRate", SCHEMA)], ("BackoffRate", "true")),
    ("retry_max_delay_zero", [("/States/Work/Retry/0/MaxDelaySeconds", 0)],
     [("/States/Work/Retry/0/MaxDelaySeconds", SCHEMA)], ("MaxDelaySeconds", "0")),
    ("retry_max_delay_too_big", [("/States/Work/Retry/0/MaxDelaySeconds", 31_622_401)],
     [("/States/Work/Retry/0/MaxDelaySeconds", SCHEMA)], ("MaxDelaySeconds", "31622401")),
    ("retry_jitter_unknown", [("/States/Work/Retry/0/JitterStrategy", "HALF")],
     [("/States/Work/Retry/0/JitterStrategy", SCHEMA)], ("JitterStrategy", "HALF", "FULL")),
    ("retry_unknown_field", [("/States/Work/Retry/0/Delay", 1)],
     [("/States/Work/Retry/0", SCHEMA)], ("Delay",)),
    ("retry_all_not_alone", [("/States/Work/Retry/1/ErrorEquals", ["States.ALL", "X.Y"])],
     [("/States/Work/Retry/1/ErrorEquals", SCHEMA)], ("States.ALL", "X.Y")),
    ("retry_all_not_last", [("/States/Work/Retry/0/ErrorEquals", ["States.ALL"])],
     [("/States/Work/Retry/0/ErrorEquals", SCHEMA)], ("States.ALL", "Retry")),
    ("retry_unknown_reserved_name", [("/States/Work/Retry/0/ErrorEquals", ["States.Mine"])],
     [("/States/Work/Retry/0/ErrorEquals/0", SCHEMA)], ("ErrorEquals", "States.Mine")),
    # --- Catch
    ("catch_not_array", [("/States/Work/Catch", {})],
     [("/States/Work/Catch", SCHEMA), ("/States/Failed", TARGET)], ("Catch", "{}")),
    ("catch_next_missing", [("/States/Work/Catch/0/Next", DELETE)],
     [("/States/Work/Catch/0", SCHEMA)], ("Next",)),
    ("catch_error_equals_missing", [("/States/Work/Catch/0/ErrorEquals", DELETE)],
     [("/States/Work/Catch/0", SCHEMA)], ("ErrorEquals",)),
    ("catch_all_not_last", [("/States/Work/Catch/0/ErrorEquals", ["States.ALL"])],
     [("/States/Work/Catch/0/ErrorEquals", SCHEMA)], ("States.ALL",)),
    ("catch_result_path_not_path", [("/States/Work/Catch/1/ResultPath", "error")],
     [("/States/Work/Catch/1/ResultPath", SCHEMA)], ("ResultPath", '"error"')),
    ("catch_output_in_jsonpath", [("/States/Work/Catch/0/Output", "{% 1 %}")],
     [("/States/Work/Catch/0", SCHEMA)], ("Output", "JSONata")),
    ("catch_unknown_field", [("/States/Work/Catch/0/Goto", "Failed")],
     [("/States/Work/Catch/0", SCHEMA)], ("Goto",)),
    # --- Choice
    # A state whose transitions are broken leaves its targets unreachable: reported too.
    ("choices_missing", [("/States/Decide/Choices", DELETE)],
     [("/States/Decide", SCHEMA), ("/States/Pause", TARGET), ("/States/Fan", TARGET),
      ("/States/Each", TARGET), ("/States/Big", TARGET)], ("Choices",)),
    ("choices_empty", [("/States/Decide/Choices", [])],
     [("/States/Decide/Choices", SCHEMA), ("/States/Pause", TARGET), ("/States/Fan", TARGET),
      ("/States/Each", TARGET), ("/States/Big", TARGET)], ("Choices", "[]")),
    ("choice_rule_without_next", [("/States/Decide/Choices/1/Next", DELETE)],
     [("/States/Decide/Choices/1", SCHEMA)], ("Next",)),
    ("choice_rule_two_operators", [("/States/Decide/Choices/0/NumericLessThan", 5)],
     [("/States/Decide/Choices/0", SCHEMA)], ("NumericGreaterThan", "NumericLessThan")),
    ("choice_rule_no_operator", [("/States/Decide/Choices/0/NumericGreaterThan", DELETE)],
     [("/States/Decide/Choices/0", SCHEMA)], ("operator",)),
    ("choice_rule_unknown_operator", [("/States/Decide/Choices/0/NumberIs", 1)],
     [("/States/Decide/Choices/0", SCHEMA)], ("NumberIs",)),
    ("choice_rule_without_variable", [("/States/Decide/Choices/0/Variable", DELETE)],
     [("/States/Decide/Choices/0", SCHEMA)], ("Variable",)),
    ("choice_variable_not_path", [("/States/Decide/Choices/0/Variable", "n")],
     [("/States/Decide/Choices/0/Variable", SCHEMA)], ("Variable", '"n"')),
    ("choice_numeric_operand_string", [("/States/Decide/Choices/0/NumericGreaterThan", "1")],
     [("/States/Decide/Choices/0/NumericGreaterThan", SCHEMA)],
     ("NumericGreaterThan", '"1"', "number")),
    ("choice_numeric_operand_boolean", [("/States/Decide/Choices/0/NumericGreaterThan", True)],
     [("/States/Decide/Choices/0/NumericGreaterThan", SCHEMA)], ("NumericGreaterThan", "true")),
    ("choice_string_operand_number", [("/States/Decide/Choices/1/And/0/StringEquals", 1)],
     [("/States/Decide/Choices/1/And/0/StringEquals", SCHEMA)], ("StringEquals", "1")),
    ("choice_boolean_operand_string",
     [("/States/Decide/Choices/1/And/1/Not/BooleanEquals", "true")],
     [("/States/Decide/Choices/1/And/1/Not/BooleanEquals", SCHEMA)],
     ("BooleanEquals", '"true"')),
    ("choice_timestamp_operand_not_rfc3339",
     [("/States/Decide/Choices/0", {"Variable": "$.t", "TimestampEquals": "2025-06-01 12:00",
                                    "Next": "Pause"})],
     [("/States/Decide/Choices/0/TimestampEquals", SCHEMA)],
     ("TimestampEquals", "2025-06-01 12:00")),
    ("choice_type_test_operand_not_boolean",
     [("/States/Decide/Choices/0", {"Variable": "$.t", "IsPresent": "yes", "Next": "Pause"})],
     [("/States/Decide/Choices/0/IsPresent", SCHEMA)], ("IsPresent", '"yes"')),
    ("choice_path_operand_not_path",
     [("/States/Decide/Choices/0", {"Variable": "$.t", "StringEqualsPath": "t",
                                    "Next": "Pause"})],
     [("/States/Decide/Choices/0/StringEqualsPath", SCHEMA)], ("StringEqualsPath", '"t"')),
    ("choice_string_matches_has_no_path_variant",
     [("/States/Decide/Choices/0", {"Variable": "$.t", "StringMatchesPath": "$.u",
                                    "Next": "Pause"})],
     [("/States/Decide/Choices/0", SCHEMA)], ("StringMatchesPath",)),
    ("choice_nested_rule_with_next", [("/States/Decide/Choices/1/And/0/Next", "Done")],
     [("/States/Decide/Choices/1/And/0/Next", SCHEMA)], ("Next",)),
    ("choice_and_empty", [("/States/Decide/Choices/1/And", [])],
     [("/States/Decide/Choices/1/And", SCHEMA)], ("And", "[]")),
    ("choice_not_is_array", [("/States/Decide/Choices/1/And/1/Not", [])],
     [("/States/Decide/Choices/1/And/1/Not", SCHEMA)], ("Not", "[]")),
    ("choice_variable_with_and", [("/States/Decide/Choices/1/Variable", "$.x")],
     [("/States/Decide/Choices/1/Variable", SCHEMA)], ("Variable", "And")),
    ("choice_condition_in_jsonpath", [("/States/Decide/Choices/0/Condition", "{% true %}")],
     [("/States/Decide/Choices/0", SCHEMA)], ("Condition", "JSONata")),
    ("choice_default_not_string", [("/States/Decide/Default", 1)],
     [("/States/Decide/Default", SCHEMA)], ("Default", "1")),
    # --- Wait
    ("wait_without_duration", [("/States/Pause/Seconds", DELETE)],
     [("/States/Pause", SCHEMA)], ("Seconds", "Timestamp")),
    ("wait_two_durations", [("/States/Pause/Timestamp", "2025-06-01T12:00:00Z")],
     [("/States/Pause", SCHEMA)], ("Seconds", "Timestamp")),
    ("wait_seconds_negative", [("/States/Pause/Seconds", -1)],
     [("/States/Pause/Seconds", SCHEMA)], ("Seconds", "-1")),
    ("wait_seconds_too_big", [("/States/Pause/Seconds", 100_000_000)],
     [("/States/Pause/Seconds", SCHEMA)], ("Seconds", "100000000")),
    ("wait_timestamp_not_rfc3339", [("/States/Pause/Seconds", DELETE),
                                    ("/States/Pause/Timestamp", "2025-06-01 12:00:00")],
     [("/States/Pause/Timestamp", SCHEMA)], ("Timestamp", "2025-06-01 12:00:00")),
    ("wait_timestamp_lowercase_t", [("/States/Pause/Seconds", DELETE),
                                    ("/States/Pause/Timestamp", "2025-06-01t12:00:00Z")],
     [("/States/Pause/Timestamp", SCHEMA)], ("Timestamp", "2025-06-01t12:00:00Z")),
    ("wait_seconds_path_not_path", [("/States/Pause/Seconds", DELETE),
                                    ("/States/Pause/SecondsPath", "delay")],
     [("/States/Pause/SecondsPath", SCHEMA)], ("SecondsPath", '"delay"')),
    # --- Fail
    ("fail_error_and_error_path", [("/States/Failed/ErrorPath", "$.e")],
     [("/States/Failed", SCHEMA)], ("Error", "ErrorPath")),
    ("fail_cause_and_cause_path", [("/States/Failed/CausePath", "$.c")],
     [("/States/Failed", SCHEMA)], ("Cause", "CausePath")),
    ("fail_error_not_string", [("/States/Failed/Error", 5)],
     [("/States/Failed/Error", SCHEMA)], ("Error", "5")),
    ("fail_error_reserved_prefix", [("/States/Failed/Error", "States.Mine")],
     [("/States/Failed/Error", SCHEMA)], ("Error", "States.Mine")),
    ("fail_error_path_not_path", [("/States/Failed/Error", DELETE),
                                  ("/States/Failed/ErrorPath", "e")],
     [("/States/Failed/ErrorPath", SCHEMA)], ("ErrorPath", '"e"')),
    ("fail_cause_path_disallowed_intrinsic",
     [("/States/Failed/Cause", DELETE), ("/States/Failed/CausePath", "States.ArrayLength($.a)")],
     [("/States/Failed/CausePath", SCHEMA)], ("CausePath", "States.ArrayLength")),
    # --- Parallel
    ("parallel_branches_missing", [("/States/Fan/Branches", DELETE)],
     [("/States/Fan", SCHEMA)], ("Branches",)),
    ("parallel_branches_empty", [("/States/Fan/Branches", [])],
     [("/States/Fan/Branches", SCHEMA)], ("Branches", "[]")),
    ("parallel_branch_not_object", [("/States/Fan/Branches/0", "B1")],
     [("/States/Fan/Branches/0", SCHEMA)], ('"B1"',)),
    ("parallel_branch_without_start_at", [("/States/Fan/Branches/0/StartAt", DELETE)],
     [("/States/Fan/Branches/0", SCHEMA)], ("StartAt",)),
    ("parallel_branch_start_at_names_no_state", [("/States/Fan/Branches/0/StartAt", "B9")],
     [("/States/Fan/Branches/0/StartAt", TARGET)], ("B9",)),
    ("parallel_branch_unknown_field", [("/States/Fan/Branches/0/QueryLanguage", "JSONata")],
     [("/States/Fan/Branches/0", SCHEMA)], ("QueryLanguage",)),
    ("parallel_branch_state_problem_has_nested_path",
     [("/States/Fan/Branches/0/States/B1/Colour", 1)],
     [("/States/Fan/Branches/0/States/B1", SCHEMA)], ("Colour",)),
    ("parallel_branch_transition_to_outer_state",
     [("/States/Fan/Branches/0/States/B1/End", DELETE),
      ("/States/Fan/Branches/0/States/B1/Next", "Done")],
     [("/States/Fan/Branches/0/States/B1/Next", TARGET),
      ("/States/Fan/Branches/0", "MISSING_END_STATE")], ("Done",)),
    # --- query language placement
    ("jsonata_field_in_jsonpath_state", [("/States/Start/Output", {"a": 1})],
     [("/States/Start", SCHEMA)],
     ("The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the "
      "'JSONata' QueryLanguage",)),
    ("arguments_in_jsonpath_task", [("/States/Work/Arguments", {})], [("/States/Work", SCHEMA)],
     ("Arguments", "JSONata")),
    ("items_in_jsonpath_map", [("/States/Each/Items", [1])], [("/States/Each", SCHEMA)],
     ("Items", "JSONata")),
    ("state_query_language_unknown", [("/States/Start/QueryLanguage", "Python")],
     [("/States/Start/QueryLanguage", SCHEMA)], ("QueryLanguage", "Python")),
    ("jsonpath_fields_in_jsonata_state", [("/States/Start/QueryLanguage", "JSONata")],
     [("/States/Start", SCHEMA), ("/States/Start", SCHEMA)],
     ("The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for "
      "the 'JSONPath' QueryLanguage",)),
    ("item_processor_query_language", [("/States/Each/ItemProcessor/QueryLanguage", "JSONata")],
     [("/States/Each/ItemProcessor", SCHEMA)], ("Field 'QueryLanguage' is not supported",)),
]

ACCEPTED: list[tuple[str, list[tuple[str, Any]]]] = [
    ("base", []),
    ("without_optional_top_level_fields", [("/Comment", DELETE), ("/Version", DELETE),
                                           ("/TimeoutSeconds", DELETE)]),
    ("query_language_jsonpath", [("/QueryLanguage", "JSONPath")]),
    ("state_name_of_80_characters",
     [("/States/Pause/Next", "x" * 80), ("/States/" + "x" * 80, {"Type": "Succeed"})]),
    ("state_name_with_slash", [("/States/Pause/Next", "a/b"),
                               ("/States/a~1b", {"Type": "Succeed"})]),
    ("null_io_paths", [("/States/Start/InputPath", None), ("/States/Start/OutputPath", None),
                       ("/States/Start/ResultPath", None)]),
    ("context_and_variable_paths", [("/States/Start/InputPath", "$$.Execution.Input"),
                                    ("/States/Start/OutputPath", "$myVar.field")]),
    ("pass_with_result", [("/States/Start/Result", {"any": ["json", 1, None]})]),
    ("task_resource_lambda_function_arn",
     [("/States/Work/Resource", "arn:aws:lambda:us-east-1:123456789012:function:work:live")]),
    ("task_resource_activity_arn",
     [("/States/Work/Resource", "arn:aws:states:eu-west-1:123456789012:activity:Approve")]),
    ("task_timeout_path_only", [("/States/Work/TimeoutSeconds", DELETE),
                                ("/States/Work/HeartbeatSeconds", DELETE),
                                ("/States/Work/TimeoutSecondsPath", "$.timeout"),
                                ("/States/Work/HeartbeatSecondsPath", "$.heartbeat")]),
    ("task_credentials_template", [("/States/Work/Credentials", {"RoleArn.$": "$.role"})]),
    ("retry_bounds_inclusive", [("/States/Work/Retry/0/IntervalSeconds", 99_999_999),
                                ("/States/Work/Retry/0/MaxAttempts", 0),
                                ("/States/Work/Retry/0/BackoffRate", 1),
                                ("/States/Work/Retry/0/MaxDelaySeconds", 31_622_400),
                                ("/States/Work/Retry/0/JitterStrategy", "NONE"),
                                ("/States/Work/Retry/0/Comment", "retry once")]),
    ("retry_minimum_bounds", [("/States/Work/Retry/0/IntervalSeconds", 1),
                              ("/States/Work/Retry/0/MaxDelaySeconds", 1)]),
    ("retry_known_reserved_names", [("/States/Work/Retry/0/ErrorEquals",
                                     ["States.TaskFailed", "States.Permissions"])]),
    ("retry_empty_array", [("/States/Work/Retry", [])]),
    ("catch_result_path_null", [("/States/Work/Catch/1/ResultPath", None)]),
    ("wait_seconds_bounds", [("/States/Pause/Seconds", 0)]),
    ("wait_seconds_max", [("/States/Pause/Seconds", 99_999_999)]),
    ("wait_timestamp", [("/States/Pause/Seconds", DELETE),
                        ("/States/Pause/Timestamp", "2025-06-01T12:00:00.123+02:00")]),
    ("wait_timestamp_path", [("/States/Pause/Seconds", DELETE),
                             ("/States/Pause/TimestampPath", "$.until")]),
    ("fail_paths", [("/States/Failed/Error", DELETE), ("/States/Failed/Cause", DELETE),
                    ("/States/Failed/ErrorPath", "$.error"),
                    ("/States/Failed/CausePath", "States.Format('failed: {}', $.why)")]),
    ("fail_reserved_error_name", [("/States/Failed/Error", "States.TaskFailed")]),
    ("fail_without_error_and_cause", [("/States/Failed/Error", DELETE),
                                      ("/States/Failed/Cause", DELETE)]),
    ("choice_without_default", [("/States/Decide/Default", DELETE)]),
    ("parallel_branch_comment", [("/States/Fan/Branches/0/Comment", "first branch")]),
    ("state_level_jsonata", [("/States/Pause/QueryLanguage", "JSONata"),
                             ("/States/Pause/Output", "{% $states.input %}")]),
    ("end_true", [("/States/Pause/Next", DELETE), ("/States/Pause/End", True),
                  ("/States/Decide/Choices/1/Next", "Pause"),
                  ("/States/Decide/Default", "Fan")]),
]


@pytest.mark.parametrize(("changes", "expected", "mentions"),
                         [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_validation_rejects(
    changes: list[tuple[str, Any]], expected: list[tuple[str, str]], mentions: tuple[str, ...]
) -> None:
    document = mutate(load(BASE), changes)

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == expected
    for word in mentions:
        assert word in problems[0].message


@pytest.mark.parametrize("changes", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_validation_accepts(changes: list[tuple[str, Any]]) -> None:
    assert validate_definition(mutate(load(BASE), changes)) == []


def test_definition_text_that_is_not_json_is_reported_with_line_and_column() -> None:
    problems = validate_definition('{\n  "StartAt": "A",\n  "States": {\n}')

    assert [(p.path, p.code) for p in problems] == [("", "INVALID_JSON_DESCRIPTION")]
    assert "line 4, column 2" in problems[0].message


def test_nan_literal_is_invalid_json() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": NaN, "End": true}}}'

    assert problems_of(text) == [("", "INVALID_JSON_DESCRIPTION")]


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_definition_is_missing_description(text: str) -> None:
    assert problems_of(text) == [("", "MISSING_DESCRIPTION")]


@pytest.mark.parametrize("document", ["[]", "5", '"text"'])
def test_definition_that_is_not_an_object_is_rejected(document: str) -> None:
    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [("", SCHEMA)]
    assert document in problems[0].message


def test_definition_text_and_mapping_give_the_same_answer() -> None:
    text = (FIXTURES / f"{BASE}.json").read_text(encoding="utf-8")

    assert validate_definition(text) == validate_definition(json.loads(text)) == []


def test_duplicate_key_outside_states_is_a_schema_problem() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "End": true}}}'

    problems = validate_definition(text)

    assert [(p.path, p.code) for p in problems] == [("/States/A/End", SCHEMA)]
    assert "'End'" in problems[0].message


def test_state_names_with_slash_and_tilde_are_escaped_in_pointers() -> None:
    document = {"StartAt": "a/b~c", "States": {"a/b~c": {"Type": "Pass", "Next": "x"}}}

    assert problems_of(document) == [("/States/a~1b~0c/Next", TARGET),
                                     ("", "MISSING_END_STATE")]


def test_unknown_machine_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="machine_type"):
        validate_definition(load(BASE), machine_type="FAST")


def test_missing_end_state_suppresses_the_reachability_check() -> None:
    document = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                           "B": {"Type": "Pass", "Next": "A"},
                                           "C": {"Type": "Pass", "Next": "A"}}}

    problems = validate_definition(document)

    assert [(p.path, p.code, p.message) for p in problems] == [
        ("", "MISSING_END_STATE", "Workflow has no terminal state")]


def test_jsonata_machine_checks_field_placement_in_every_state() -> None:
    document = load("valid/jsonata_every_state_type")
    document["States"]["Start"]["InputPath"] = "$"
    document["States"]["Work"]["TimeoutSecondsPath"] = "$.t"
    document["States"]["Each"]["ItemsPath"] = "$.items"
    document["States"]["Decide"]["Choices"][0]["Variable"] = "$.x"

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [
        ("/States/Start", SCHEMA), ("/States/Work", SCHEMA), ("/States/Decide/Choices/0", SCHEMA),
        ("/States/Each", SCHEMA)]
    fields = ["InputPath", "TimeoutSecondsPath", "Variable", "ItemsPath"]
    for problem, name in zip(problems, fields, strict=True):
        assert problem.message == (
            f"The QueryLanguage is set to 'JSONata', but field '{name}' is only supported for "
            "the 'JSONPath' QueryLanguage")


def test_jsonata_numeric_fields_reject_plain_strings() -> None:
    document = load("valid/jsonata_every_state_type")
    document["States"]["Work"]["TimeoutSeconds"] = "60"

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [("/States/Work/TimeoutSeconds", SCHEMA)]
    assert '"60"' in problems[0].message


def test_jsonata_choice_rule_needs_a_condition() -> None:
    document = load("valid/jsonata_every_state_type")
    del document["States"]["Decide"]["Choices"][0]["Condition"]

    assert problems_of(document) == [("/States/Decide/Choices/0", SCHEMA)]


def test_jsonata_condition_must_be_an_expression() -> None:
    document = load("valid/jsonata_every_state_type")
    document["States"]["Decide"]["Choices"][0]["Condition"] = "$states.input.n > 1"

    assert problems_of(document) == [("/States/Decide/Choices/0/Condition", SCHEMA)]


def test_assign_variable_names_and_paths_are_checked() -> None:
    document = mutate(load(BASE), [("/States/Start/Assign", {"ok": 1, "a.b": 2, "1st": 3,
                                                             "total.$": "$.x[",
                                                             "nested": {"n.$": "n"}})])

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [
        ("/States/Start/Assign/a.b", SCHEMA), ("/States/Start/Assign/1st", SCHEMA),
        ("/States/Start/Assign/total.$", SCHEMA), ("/States/Start/Assign/nested/n.$", SCHEMA)]
    assert '"a.b"' in problems[0].message


def test_assign_in_catcher_and_choice_rule_is_checked() -> None:
    document = mutate(load(BASE), [("/States/Work/Catch/0/Assign", {"bad name": 1}),
                                   ("/States/Decide/Choices/0/Assign", {"x.$": 5})])

    assert problems_of(document) == [("/States/Work/Catch/0/Assign/bad name", SCHEMA),
                                     ("/States/Decide/Choices/0/Assign/x.$", SCHEMA)]


def test_absurdly_deep_nesting_is_reported_not_raised() -> None:
    inner: dict[str, Any] = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    for level in range(2000):
        name = f"P{level}"
        inner = {"StartAt": name, "States": {name: {"Type": "Parallel", "Branches": [inner],
                                                    "End": True}}}

    assert problems_of(inner) == [("", "TOO_DEEPLY_NESTED")]


def test_absurdly_deep_json_text_is_reported_not_raised() -> None:
    text = '{"StartAt": "A", "States": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001

    assert problems_of(text) == [("", "TOO_DEEPLY_NESTED")]


def test_task_resource_cannot_be_a_jsonata_expression() -> None:
    document = load("valid/jsonata_every_state_type")
    document["States"]["Work"]["Resource"] = "{% $resource %}"

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [("/States/Work/Resource", "INVALID_RESOURCE")]
    assert "{% $resource %}" in problems[0].message

"""parse_definition: validation first, then an immutable model with everything compiled."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from orchestrator.asl import (
    Catcher,
    ChoiceState,
    InvalidDefinition,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    StateMachine,
    TaskState,
    WaitState,
    parse_definition,
)

DISTRIBUTED_PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
    "StartAt": "Child",
    "States": {"Child": {"Type": "Pass", "End": True}},
}


def test_parse_builds_frozen_model_from_json_text() -> None:
    text = json.dumps(
        {
            "Comment": "c",
            "TimeoutSeconds": 60,
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.r", "End": True}
            },
        }
    )
    machine = parse_definition(text)
    assert (machine.start_at, machine.timeout_seconds, machine.comment) == (
        "P",
        60,
        "c",
    )
    state = machine.states["P"]
    assert isinstance(state, PassState)
    assert (state.result, state.has_result, state.end) == (1, True, True)
    assert state.io.result_path is not None and state.io.result_path.text == "$.r"
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.name = "other"  # type: ignore[misc]


def test_parse_copies_the_definition_mapping() -> None:
    definition: dict[str, Any] = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    machine = parse_definition(definition)
    definition["States"]["P"]["Type"] = "Fail"
    assert machine.raw["States"]["P"]["Type"] == "Pass"


def test_identity_paths_compile_to_nothing_and_null_paths_are_flagged() -> None:
    machine = parse_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::test:x",
                    "InputPath": "$",
                    "OutputPath": None,
                    "ResultPath": None,
                    "End": True,
                }
            },
        }
    )
    io = machine.states["T"].io
    assert (io.input_path, io.input_null, io.output_null, io.result_discard) == (
        None,
        False,
        True,
        True,
    )


def test_retry_and_catch_defaults() -> None:
    machine = parse_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::test:x",
                    "Retry": [{"ErrorEquals": ["States.ALL"]}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}],
                    "End": True,
                },
                "D": {"Type": "Succeed"},
            },
        }
    )
    task = machine.states["T"]
    assert isinstance(task, TaskState)
    assert task.retry == (Retrier(error_equals=("States.ALL",)),)
    assert task.retry[0].delay(1) == 1.0 and task.retry[0].delay(3) == 4.0
    assert task.catch == (
        Catcher(error_equals=("States.ALL",), next="D", result_path=None),
    )


def test_wait_timestamp_is_parsed_once() -> None:
    machine = parse_definition(
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Timestamp": "2026-01-01T00:00:00Z", "End": True}
            },
        }
    )
    wait = machine.states["W"]
    assert isinstance(wait, WaitState)
    assert (
        wait.timestamp is not None
        and wait.timestamp.isoformat() == "2026-01-01T00:00:00+00:00"
    )


def test_choice_rules_compile_and_context_use_is_detected() -> None:
    machine = parse_definition(
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Variable": "$$.Execution.Name",
                            "StringEquals": "x",
                            "Next": "D",
                        },
                    ],
                    "Default": "D",
                },
                "D": {"Type": "Succeed"},
            },
        }
    )
    choice = machine.states["C"]
    assert isinstance(choice, ChoiceState)
    assert [b.next for b in choice.choices] == ["D"]
    assert choice.io.uses_context is True


def test_distributed_maps_are_found_at_any_depth() -> None:
    inner_processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "InnerChild",
        "States": {"InnerChild": {"Type": "Pass", "End": True}},
    }
    inner_map = {
        "Type": "Map",
        "Label": "Inner",
        "ItemProcessor": inner_processor,
        "End": True,
    }
    machine = parse_definition(
        {
            "StartAt": "Par",
            "States": {
                "Par": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "InnerMap", "States": {"InnerMap": inner_map}}
                    ],
                    "Next": "Outer",
                },
                "Outer": {
                    "Type": "Map",
                    "ItemProcessor": DISTRIBUTED_PROCESSOR,
                    "End": True,
                },
            },
        }
    )
    found = machine.distributed_maps()
    assert sorted(m.name for m in found) == ["InnerMap", "Outer"]
    assert all(isinstance(m, MapState) and m.distributed for m in found)
    assert isinstance(machine.states["Par"], ParallelState)
    assert isinstance(machine.states["Par"].branches[0], StateMachine)


def test_map_processor_is_parsed_without_processor_config() -> None:
    machine = parse_definition(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": DISTRIBUTED_PROCESSOR,
                    "End": True,
                }
            },
        }
    )
    state = machine.states["M"]
    assert isinstance(state, MapState)
    assert "ProcessorConfig" not in state.processor.raw
    assert state.processor_raw["ProcessorConfig"]["ExecutionType"] == "EXPRESS"
    assert state.processor_config.execution_type == "EXPRESS"


def test_invalid_definition_lists_problems() -> None:
    with pytest.raises(InvalidDefinition) as info:
        parse_definition(
            {"StartAt": "Missing", "States": {"P": {"Type": "Pass", "End": True}}}
        )
    assert info.value.problems
    assert any("Missing" in p.message for p in info.value.problems)


def test_invalid_json_text_is_an_invalid_definition() -> None:
    with pytest.raises(InvalidDefinition) as info:
        parse_definition("{not json")
    assert info.value.problems[0].code == "INVALID_JSON_DESCRIPTION"


def test_jsonata_state_in_a_jsonpath_machine_is_parsed() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% 1 %}",
                "End": True,
            }
        },
    }
    machine = parse_definition(definition)
    assert machine.states["P"].query_language == "JSONata"
    assert machine.states["P"].io.jsonata


def test_jsonata_top_level_is_inherited_by_every_state() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    machine = parse_definition(definition)
    assert machine.query_language == "JSONata"
    assert machine.states["P"].query_language == "JSONata"

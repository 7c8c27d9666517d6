"""Workflow variables (spec 5.6): variable paths, history details, scopes, limits, replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FakeClock, FakeInvoker, FakeMapRunner, execution_info

from orchestrator.asl import (
    Checkpoint,
    EngineOptions,
    Failed,
    PathNotFound,
    Ports,
    Succeeded,
    Suspended,
    TaskRequest,
    compile_path,
    compile_reference_path,
    parse_definition,
    run_execution,
    validate_definition,
)
from orchestrator.asl._paths import VARIABLES_KEY, PathAssignError
from orchestrator.asl._variables import MAX_EXECUTION_VARIABLE_BYTES, Variables

T = "arn:aws:states:::test:"


def run(definition: dict[str, Any], input: Any, **kwargs: Any) -> Any:
    ports = Ports(
        tasks=kwargs.pop("tasks", FakeInvoker()),
        clock=FakeClock(),
        map_runner=kwargs.pop("map_runner", FakeMapRunner()),
    )
    return run_execution(
        parse_definition(definition), input, execution_info(), ports, **kwargs
    )


# -- paths --------------------------------------------------------------------------------


def test_variable_path_reads_the_variables_of_the_context_mapping() -> None:
    path = compile_path("$order.items[1].sku")
    context = {VARIABLES_KEY: {"order": {"items": [{"sku": "a"}, {"sku": "b"}]}}}

    assert (path.variable, path.needs_context, path.is_context) == ("order", True, False)
    assert path.find({"ignored": 1}, context) == "b"


def test_indefinite_variable_path_returns_every_match() -> None:
    path = compile_path("$rows[*].id")

    assert path.find({}, {VARIABLES_KEY: {"rows": [{"id": 1}, {"id": 2}]}}) == [1, 2]


def test_undefined_variable_is_path_not_found() -> None:
    with pytest.raises(PathNotFound) as raised:
        compile_path("$nope").find({}, {VARIABLES_KEY: {}})
    assert raised.value.reason == "the variable '$nope' is not defined"


def test_a_variable_reference_path_cannot_be_written() -> None:
    with pytest.raises(PathAssignError):
        compile_reference_path("$x.a").assign({}, 1)


def test_data_and_context_paths_are_not_variables() -> None:
    assert compile_path("$.a").variable is None
    assert compile_path("$$.Execution.Id").variable is None
    assert compile_path("$['a']").needs_context is False


# -- history ------------------------------------------------------------------------------


def test_exited_event_lists_assigned_variables_as_json_text() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"n": 1, "s.$": "$.s"}, "Next": "B"},
            "B": {"Type": "Pass", "End": True},
        },
    }
    outcome = run(definition, {"s": "é"})

    exited = [e for e in outcome.events if e["type"] == "PassStateExited"]
    assert exited[0]["stateExitedEventDetails"] == {
        "name": "A",
        "output": '{"s":"é"}',
        "outputDetails": {"truncated": False},
        "assignedVariables": {"n": "1", "s": '"é"'},
        "assignedVariablesDetails": {"truncated": False},
    }
    assert "assignedVariables" not in exited[1]["stateExitedEventDetails"]


def test_catch_assign_shows_in_the_exited_event_of_the_catching_state() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": T + "boom",
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "Assign": {"e.$": "$.Error"}, "Next": "D"}
                ],
                "End": True,
            },
            "D": {"Type": "Succeed"},
        },
    }
    outcome = run(definition, {}, tasks=FakeInvoker({T + "boom": {"error": "X"}}))

    exited = next(e for e in outcome.events if e["type"] == "TaskStateExited")
    assert exited["stateExitedEventDetails"]["assignedVariables"] == {"e": '"X"'}


# -- scopes -------------------------------------------------------------------------------


def test_distributed_map_children_cannot_read_outer_variables() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"outer": 1}, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "C",
                    "States": {"C": {"Type": "Pass", "InputPath": "$outer", "End": True}},
                },
                "End": True,
            },
        },
    }
    outcome = run(definition, [1])

    assert isinstance(outcome, Failed)
    assert outcome.error == "States.ExceedToleratedFailureThreshold"


def test_task_request_context_does_not_carry_the_variables() -> None:
    tasks = FakeInvoker()
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"v": 1}, "Next": "T"},
            "T": {"Type": "Task", "Resource": T + "x", "Parameters": {"v.$": "$v"}, "End": True},
        },
    }
    outcome = run(definition, {}, tasks=tasks)

    assert isinstance(outcome, Succeeded) and outcome.output == {"v": 1}
    request: TaskRequest = tasks.calls[0]
    assert sorted(request.context) == ["Execution", "State", "StateMachine"]


def test_child_scope_sizes_are_released_when_the_scope_ends() -> None:
    variables = Variables()
    variables.commit({"a": "xx"})
    variables.enter_child()
    variables.commit({"b": "yyyy"})
    assert (variables.total_bytes, variables.current["a"]) == (10, "xx")
    variables.leave_child()

    assert (variables.total_bytes, dict(variables.current)) == (4, {"a": "xx"})


def test_reassigning_a_variable_replaces_its_size() -> None:
    variables = Variables()
    variables.commit({"a": "x" * 100})
    variables.commit({"a": 1})

    assert variables.total_bytes == 1


def test_execution_variables_over_10_mib_are_data_limit_exceeded() -> None:
    states: dict[str, Any] = {}
    count = MAX_EXECUTION_VARIABLE_BYTES // (200 * 1024) + 1
    for i in range(count):
        states[f"S{i}"] = {"Type": "Pass", "Assign": {f"v{i}.$": "$.blob"}, "Next": f"S{i + 1}"}
    states[f"S{count}"] = {"Type": "Succeed"}
    definition = {"StartAt": "S0", "States": states}

    outcome = run(
        definition, {"blob": "x" * (200 * 1024)}, options=EngineOptions(history=False)
    )

    assert isinstance(outcome, Failed)
    assert outcome.error == "States.DataLimitExceeded"
    assert outcome.cause == (
        "The variables of this execution would have a total size of 10649704 bytes, which "
        "exceeds the maximum of 10485760 bytes."
    )


# -- suspend / resume ---------------------------------------------------------------------


def test_variables_are_recomputed_when_a_suspended_run_resumes() -> None:
    definition = parse_definition(
        {
            "StartAt": "Get",
            "States": {
                "Get": {
                    "Type": "Task",
                    "Resource": T + "get",
                    "Assign": {"token.$": "$.token"},
                    "Next": "Use",
                },
                "Use": {"Type": "Pass", "Parameters": {"t.$": "$token"}, "End": True},
            },
        }
    )
    ports = Ports(tasks=FakeInvoker(pending={T + "get"}), clock=FakeClock())
    first = run_execution(definition, {}, execution_info(), ports)
    assert isinstance(first, Suspended)
    checkpoint = Checkpoint.from_dict(json.loads(json.dumps(first.checkpoint.to_dict())))
    checkpoint.resolve({"token": "abc"})

    resumed = run_execution(definition, None, execution_info(), ports, checkpoint=checkpoint)

    assert isinstance(resumed, Succeeded)
    assert resumed.output == {"t": "abc"}


# -- validation ---------------------------------------------------------------------------


def _nested(inner_assign: dict[str, Any], mode: str = "INLINE") -> dict[str, Any]:
    return {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": mode, "ExecutionType": "STANDARD"},
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "Assign": inner_assign, "End": True}},
                },
                "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"x": 2}, "Next": "E"}],
                "Next": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }


def test_inner_scope_cannot_reassign_an_outer_variable() -> None:
    problems = validate_definition(_nested({"x.$": "$"}))

    assert [(p.path, p.code) for p in problems] == [
        ("/States/M/ItemProcessor/States/I/Assign/x.$", "SCHEMA_VALIDATION_FAILED")
    ]


def test_inner_scope_may_assign_new_names_and_catch_may_reassign_outer_names() -> None:
    assert validate_definition(_nested({"y": 1})) == []


def test_distributed_map_children_start_a_fresh_scope() -> None:
    assert validate_definition(_nested({"x": 1}, mode="DISTRIBUTED")) == []


def test_parallel_branch_cannot_reassign_an_outer_variable_even_in_a_choice_rule() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Assign": {"seen": 1},
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {
                            "C": {
                                "Type": "Choice",
                                "Choices": [
                                    {
                                        "Variable": "$.a",
                                        "IsPresent": True,
                                        "Assign": {"seen": 2},
                                        "Next": "D",
                                    }
                                ],
                                "Default": "D",
                            },
                            "D": {"Type": "Succeed"},
                        },
                    }
                ],
                "End": True,
            }
        },
    }

    problems = validate_definition(definition)

    assert [p.path for p in problems] == ["/States/P/Branches/0/States/C/Choices/0/Assign/seen"]


def test_parallel_branch_and_its_own_catch_may_assign_the_same_name() -> None:
    # Observed on AWS: accepted (the Catch writes the outer scope, the branch its own).
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {
                    "B": {"Type": "Pass", "Assign": {"status": "branch"}, "End": True}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"status": "failed"},
                           "Next": "E"}],
                "Next": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }
    assert validate_definition(definition) == []
    definition["States"]["S"] = {"Type": "Pass", "Assign": {"status": 0}, "Next": "P"}
    definition["StartAt"] = "S"
    assert [p.path for p in validate_definition(definition)] == [
        "/States/P/Branches/0/States/B/Assign/status"]

"""Task requests, the context object, laziness and the error-matching rules."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import T0, FakeClock, FakeInvoker, execution_info

from orchestrator.asl import (
    EngineOptions,
    ExecutionInfo,
    Failed,
    Ports,
    Succeeded,
    parse_definition,
    run_execution,
)
from orchestrator.asl.model import error_matches


def run(
    definition: dict[str, Any], input: Any, tasks: FakeInvoker, **kwargs: Any
) -> Any:
    clock = kwargs.pop("clock", FakeClock())
    info = kwargs.pop("info", execution_info())
    return run_execution(
        parse_definition(definition),
        input,
        info,
        Ports(tasks=tasks, clock=clock),
        **kwargs,
    )


def test_task_request_carries_resolved_timeouts_and_context() -> None:
    tasks = FakeInvoker({"arn:aws:states:::test:x": "ok"})
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::test:x",
                "TimeoutSecondsPath": "$.timeout",
                "HeartbeatSecondsPath": "$.beat",
                "End": True,
            }
        },
    }
    outcome = run(definition, {"timeout": 60, "beat": 5}, tasks)
    assert isinstance(outcome, Succeeded)
    request = tasks.calls[0]
    assert (
        request.state_name,
        request.resource,
        request.timeout_seconds,
        request.heartbeat_seconds,
    ) == (
        "T",
        "arn:aws:states:::test:x",
        60,
        5,
    )
    assert request.context["State"] == {
        "EnteredTime": "2026-01-02T03:04:05Z",
        "Name": "T",
        "RetryCount": 0,
    }
    assert request.context["Execution"]["Name"] == "exec-1"
    assert "Task" not in request.context
    assert not any(key.startswith("__") for key in request.context)


def test_timeout_seconds_path_must_be_a_positive_integer() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::test:x",
                "TimeoutSecondsPath": "$.t",
                "End": True,
            }
        },
    }
    outcome = run(definition, {"t": 0}, FakeInvoker())
    assert isinstance(outcome, Failed)
    assert outcome.cause == (
        "An error occurred while executing the state 'T' (entered at the event id #2). "
        'The TimeoutSecondsPath field refers to value "0" which is not a valid positive integer: $.t'
    )


def test_wait_for_task_token_gets_a_deterministic_token_and_retry_count() -> None:
    tasks = FakeInvoker(
        {
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken": [
                {"error": "E"},
                {"result": 1},
            ]
        }
    )
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "token.$": "$$.Task.Token",
                    "retry.$": "$$.State.RetryCount",
                },
                "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1}],
                "End": True,
            }
        },
    }
    outcome = run(definition, {}, tasks)
    assert isinstance(outcome, Succeeded)
    tokens = [call.parameters["token"] for call in tasks.calls]
    assert [call.parameters["retry"] for call in tasks.calls] == [0, 1]
    assert base64.urlsafe_b64decode(tokens[1]).decode().endswith("#2#1")
    assert tokens[0] != tokens[1]
    assert tasks.calls[0].context["Task"] == {"Token": tokens[0]}


def test_redrive_time_appears_in_context_only_after_a_redrive() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"e.$": "$$.Execution"}, "End": True}
        },
    }
    info = ExecutionInfo(
        execution_arn="arn:x",
        name="n",
        state_machine_arn="arn:aws:states:eu-west-1:1:stateMachine:s",
        state_machine_name="s",
        start_time=T0,
        redrive_count=2,
        redrive_time=datetime(2026, 2, 1, tzinfo=UTC),
    )
    outcome = run(definition, {}, FakeInvoker(), info=info)
    assert outcome.output["e"]["RedriveCount"] == 2
    assert outcome.output["e"]["RedriveTime"] == "2026-02-01T00:00:00Z"
    plain = run(definition, {}, FakeInvoker())
    assert "RedriveTime" not in plain.output["e"]


class CountingClock(FakeClock):
    def __init__(self) -> None:
        super().__init__()
        self.now_calls = 0

    def now(self) -> datetime:
        self.now_calls += 1
        return super().now()


def test_states_without_context_paths_never_ask_the_clock_with_history_off() -> None:
    clock = CountingClock()
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"a.$": "$.a"}, "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "D"}],
            },
            "D": {"Type": "Succeed"},
        },
    }
    outcome = run(
        definition,
        {"a": 1},
        FakeInvoker(),
        clock=clock,
        options=EngineOptions(history=False),
    )
    assert isinstance(outcome, Succeeded)
    assert clock.now_calls == 0


def test_uuid_in_parameters_uses_the_ports_random_source() -> None:
    import random

    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"u.$": "States.UUID()"}, "End": True}
        },
    }
    machine = parse_definition(definition)

    def uuid_with(seed: int) -> str:
        ports = Ports(
            tasks=FakeInvoker(), clock=FakeClock(), random=random.Random(seed)
        )
        outcome = run_execution(machine, {}, execution_info(), ports)
        assert isinstance(outcome, Succeeded)
        return str(outcome.output["u"])

    assert uuid_with(3) == uuid_with(3)
    assert uuid_with(3) != uuid_with(4)


@pytest.mark.parametrize(
    ("error_equals", "error", "expected"),
    [
        (("States.ALL",), "App.X", True),
        (("States.ALL",), "States.Timeout", True),
        (("States.ALL",), "States.Runtime", False),
        (("States.ALL",), "States.DataLimitExceeded", False),
        (("States.DataLimitExceeded",), "States.DataLimitExceeded", True),
        (("States.Runtime",), "States.Runtime", False),
        (("States.TaskFailed",), "App.X", True),
        (("States.TaskFailed",), "States.Timeout", False),
        (("States.TaskFailed",), "States.HeartbeatTimeout", True),
        (("States.TaskFailed",), "States.DataLimitExceeded", False),
        (("App.X",), "App.Y", False),
        (("App.Y", "App.X"), "App.X", True),
    ],
)
def test_error_matching_rules(
    error_equals: tuple[str, ...], error: str, expected: bool
) -> None:
    assert error_matches(error_equals, error) is expected


def test_the_engine_never_mutates_its_input() -> None:
    import copy

    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {
                        "I": {
                            "Type": "Pass",
                            "Result": 2,
                            "ResultPath": "$.x",
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.out",
                "End": True,
            },
        },
    }
    original = {"a": {"keep": True}, "items": [{"n": 1}, {"n": 2}]}
    given = copy.deepcopy(original)
    outcome = run(definition, given, FakeInvoker())
    assert isinstance(outcome, Succeeded)
    assert given == original
    assert outcome.output["out"] == [{"n": 1, "x": 2}, {"n": 2, "x": 2}]
    assert outcome.output["a"] == {"keep": True, "b": 1}


def test_timeout_seconds_path_is_resolved_after_input_path() -> None:
    tasks = FakeInvoker({"arn:aws:states:::test:x": 1})
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::test:x",
                "InputPath": "$.cfg",
                "TimeoutSecondsPath": "$.t",
                "End": True,
            }
        },
    }
    outcome = run(definition, {"cfg": {"t": 12}}, tasks)
    assert isinstance(outcome, Succeeded)
    assert (tasks.calls[0].timeout_seconds, tasks.calls[0].heartbeat_seconds) == (
        12,
        None,
    )

"""Suspend and resume by journal replay: the same output and history as an uninterrupted run.

Each "process" below uses fresh port objects and a checkpoint that went through json.dumps,
as the orchestrator does when a parent execution waits for a Task, a Wait or a Map Run.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from conftest import T0, FakeClock, FakeInvoker, FakeMapRunner, at, execution_info

from orchestrator.asl import (
    Checkpoint,
    DistributedMapRequest,
    Failed,
    JournalMismatch,
    MapRunResultRequest,
    Ports,
    Succeeded,
    Suspended,
    TaskRequest,
    WaitRequest,
    parse_definition,
    run_execution,
)

DEFINITION: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {
            "Type": "Pass",
            "Parameters": {
                "token.$": "States.UUID()",
                "entered.$": "$$.State.EnteredTime",
                "items.$": "$.items",
            },
            "Next": "Call",
        },
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"token.$": "$.token"},
            "ResultPath": "$.call",
            "Next": "Sleep",
        },
        "Sleep": {"Type": "Wait", "Seconds": 3600, "Next": "Fan"},
        "Fan": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Child",
                "States": {"Child": {"Type": "Pass", "End": True}},
            },
            "ResultPath": "$.fan",
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "OutputPath": "$.fan", "End": True},
    },
}
TASK = "arn:aws:states:::lambda:invoke"
TASK_RESULT = {"Payload": "done"}
INPUT = {"items": [10, 20, 30]}


def uninterrupted() -> Succeeded:
    ports = Ports(
        tasks=FakeInvoker({TASK: TASK_RESULT}),
        clock=FakeClock(),
        map_runner=FakeMapRunner(),
        random=random.Random(1),
    )
    outcome = run_execution(
        parse_definition(DEFINITION), INPUT, execution_info(), ports
    )
    assert isinstance(outcome, Succeeded)
    return outcome


def through_json(checkpoint: Checkpoint) -> Checkpoint:
    return Checkpoint.from_dict(json.loads(json.dumps(checkpoint.to_dict())))


def test_run_suspended_at_task_wait_and_map_matches_uninterrupted_run() -> None:
    reference = uninterrupted()
    events: list[dict[str, Any]] = []

    # Process 1: the Task's answer will come later.
    invoker = FakeInvoker(pending={TASK})
    first = run_execution(
        parse_definition(DEFINITION),
        INPUT,
        execution_info(),
        Ports(tasks=invoker, clock=FakeClock(), random=random.Random(1)),
    )
    assert isinstance(first, Suspended)
    assert isinstance(first.request, TaskRequest)
    prepared = json.loads(reference.events[2]["stateExitedEventDetails"]["output"])
    assert first.request.parameters == {"token": prepared["token"]}
    events += first.events
    checkpoint = through_json(first.checkpoint)
    checkpoint.resolve(TASK_RESULT)

    # Process 2: replay (no task call, another random seed), then the long Wait suspends.
    invoker2 = FakeInvoker()
    second = run_execution(
        parse_definition(DEFINITION),
        None,
        execution_info(),
        Ports(
            tasks=invoker2, clock=FakeClock(suspend_after=60), random=random.Random(99)
        ),
        checkpoint=checkpoint,
    )
    assert isinstance(second, Suspended)
    assert second.request == WaitRequest("Sleep", at(3600))
    assert invoker2.calls == []
    events += second.events
    checkpoint = through_json(second.checkpoint)
    checkpoint.resolve(None)

    # Process 3: the Map Run starts and is still running.
    runner = FakeMapRunner(pending_polls=1)
    third = run_execution(
        parse_definition(DEFINITION),
        None,
        execution_info(),
        Ports(tasks=FakeInvoker(), clock=FakeClock(at(3600)), map_runner=runner),
        checkpoint=checkpoint,
    )
    assert isinstance(third, Suspended)
    assert isinstance(third.request, MapRunResultRequest)
    assert len(runner.requests) == 1
    events += third.events
    checkpoint = through_json(third.checkpoint)
    checkpoint.resolve([{"n": 10, "i": 0}, {"n": 20, "i": 1}, {"n": 30, "i": 2}])

    # Process 4: the Map Run's result arrives; nothing is started again.
    runner4 = FakeMapRunner()
    fourth = run_execution(
        parse_definition(DEFINITION),
        None,
        execution_info(),
        Ports(tasks=FakeInvoker(), clock=FakeClock(at(3600)), map_runner=runner4),
        checkpoint=checkpoint,
    )
    assert isinstance(fourth, Succeeded)
    assert runner4.requests == []
    events += fourth.events

    assert (
        fourth.output
        == reference.output
        == [{"n": 10, "i": 0}, {"n": 20, "i": 1}, {"n": 30, "i": 2}]
    )
    assert events == reference.events
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def test_resume_without_answer_polls_again_without_new_events() -> None:
    machine = parse_definition(DEFINITION)
    ports = Ports(
        tasks=FakeInvoker({TASK: TASK_RESULT}),
        clock=FakeClock(),
        map_runner=FakeMapRunner(pending_polls=5),
        random=random.Random(1),
    )
    first = run_execution(machine, INPUT, execution_info(), ports)
    assert isinstance(first, Suspended)
    again = run_execution(
        machine,
        None,
        execution_info(),
        Ports(
            tasks=FakeInvoker(), clock=FakeClock(at(3600)), map_runner=ports.map_runner
        ),
        checkpoint=through_json(first.checkpoint),
    )
    assert isinstance(again, Suspended)
    assert again.events == []
    assert again.checkpoint.last_event_id == first.checkpoint.last_event_id


def test_rejected_task_goes_to_retry_and_catch_on_resume() -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::test:callback",
                "Catch": [
                    {
                        "ErrorEquals": ["App.Rejected"],
                        "ResultPath": "$.err",
                        "Next": "Caught",
                    }
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    machine = parse_definition(definition)
    first = run_execution(
        machine,
        {"a": 1},
        execution_info(),
        Ports(tasks=FakeInvoker(pending={"arn:aws:states:::test:callback"}), clock=FakeClock()),
    )
    assert isinstance(first, Suspended)
    checkpoint = through_json(first.checkpoint)
    checkpoint.reject("App.Rejected", "no thanks")
    second = run_execution(
        machine,
        None,
        execution_info(),
        Ports(tasks=FakeInvoker(), clock=FakeClock()),
        checkpoint=checkpoint,
    )
    assert isinstance(second, Succeeded)
    assert second.output == {
        "a": 1,
        "err": {"Error": "App.Rejected", "Cause": "no thanks"},
    }
    assert [e["type"] for e in second.events] == [
        "TaskFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_suspended_map_request_is_json_round_trippable() -> None:
    machine = parse_definition(DEFINITION)
    first = run_execution(
        machine,
        INPUT,
        execution_info(),
        Ports(
            tasks=FakeInvoker({TASK: TASK_RESULT}),
            clock=FakeClock(),
            map_runner=FakeMapRunner(pending_polls=1),
        ),
    )
    assert isinstance(first, Suspended)
    assert first.checkpoint.request == {
        "kind": "map_result",
        "state_name": "Fan",
        "map_run_arn": "arn:aws:states:us-east-1:123456789012:mapRun:sm/Fan:run-1",
    }
    assert first.checkpoint.pending_request() == first.request
    start_request = DistributedMapRequest.from_dict(_sample_request())
    assert (start_request.state_name, start_request.items) == ("Fan", [10, 20, 30])
    assert start_request.processor["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }


def _sample_request() -> dict[str, Any]:
    runner = FakeMapRunner(pending_polls=1)
    run_execution(
        parse_definition(DEFINITION),
        INPUT,
        execution_info(),
        Ports(
            tasks=FakeInvoker({TASK: TASK_RESULT}), clock=FakeClock(), map_runner=runner
        ),
    )
    return json.loads(json.dumps(runner.requests[0].to_dict()))


def test_replay_against_a_changed_definition_raises_journal_mismatch() -> None:
    first = run_execution(
        parse_definition(DEFINITION),
        INPUT,
        execution_info(),
        Ports(
            tasks=FakeInvoker(pending={TASK}),
            clock=FakeClock(),
            random=random.Random(1),
        ),
    )
    assert isinstance(first, Suspended)
    checkpoint = through_json(first.checkpoint)
    checkpoint.resolve(TASK_RESULT)
    changed = {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": TASK, "End": True}},
    }
    with pytest.raises(JournalMismatch, match="recorded a 'random' call"):
        run_execution(
            parse_definition(changed),
            None,
            execution_info(),
            Ports(tasks=FakeInvoker(), clock=FakeClock()),
            checkpoint=checkpoint,
        )


def test_resolve_without_pending_request_is_an_error() -> None:
    checkpoint = Checkpoint(input={})
    with pytest.raises(ValueError, match="no pending request"):
        checkpoint.resolve(1)


def test_failed_execution_after_resume_reports_only_new_events() -> None:
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 600, "Next": "F"},
            "F": {"Type": "Fail", "Error": "App.End", "Cause": "done"},
        },
    }
    machine = parse_definition(definition)
    first = run_execution(
        machine,
        {},
        execution_info(),
        Ports(tasks=FakeInvoker(), clock=FakeClock(suspend_after=1)),
    )
    assert isinstance(first, Suspended)
    assert [e["type"] for e in first.events] == ["ExecutionStarted", "WaitStateEntered"]
    checkpoint = through_json(first.checkpoint)
    checkpoint.resolve()
    second = run_execution(
        machine,
        {},
        execution_info(),
        Ports(tasks=FakeInvoker(), clock=FakeClock(at(600))),
        checkpoint=checkpoint,
    )
    assert isinstance(second, Failed)
    assert [(e["id"], e["type"]) for e in second.events] == [
        (3, "WaitStateExited"),
        (4, "FailStateEntered"),
        (5, "ExecutionFailed"),
    ]
    assert second.events[0]["timestamp"] == at(600).timestamp()
    assert T0.timestamp() == first.events[0]["timestamp"]


def test_pending_tasks_inside_parallel_branches_are_pending_together() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {
                            "A": {"Type": "Task", "Resource": "arn:aws:states:::test:a", "End": True}
                        },
                    },
                    {
                        "StartAt": "B",
                        "States": {
                            "B": {"Type": "Task", "Resource": "arn:aws:states:::test:b", "End": True}
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    machine = parse_definition(definition)
    answers = {"arn:aws:states:::test:a": {"a": 1}, "arn:aws:states:::test:b": {"b": 2}}
    reference = run_execution(
        machine,
        {"in": 0},
        execution_info(),
        Ports(tasks=FakeInvoker(answers), clock=FakeClock()),
    )
    assert isinstance(reference, Succeeded)

    events: list[dict[str, Any]] = []
    outcome = run_execution(
        machine,
        {"in": 0},
        execution_info(),
        Ports(tasks=FakeInvoker(pending={"arn:aws:states:::test:a", "arn:aws:states:::test:b"}), clock=FakeClock()),
    )
    resources = []
    while isinstance(outcome, Suspended):
        events += outcome.events
        # Both branches wait at once (issue 10): answer the last one first.
        key = list(outcome.checkpoint.pending)[-1]
        request = outcome.checkpoint.pending[key]["request"]
        resources.append(request["resource"])
        checkpoint = through_json(outcome.checkpoint)
        assert checkpoint.answer(key, answers[request["resource"]])
        outcome = run_execution(
            machine,
            None,
            execution_info(),
            Ports(tasks=FakeInvoker(pending={"arn:aws:states:::test:a", "arn:aws:states:::test:b"}), clock=FakeClock()),
            checkpoint=checkpoint,
        )
    assert isinstance(outcome, Succeeded)
    events += outcome.events
    assert resources == ["arn:aws:states:::test:b", "arn:aws:states:::test:a"]
    assert outcome.output == reference.output == [{"a": 1}, {"b": 2}]
    assert sorted(e["type"] for e in events) == sorted(e["type"] for e in reference.events)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))

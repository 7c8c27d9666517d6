"""Redriving a failed execution from the call that failed it (spec 3.6)."""

from __future__ import annotations

import json

from orchestrator.asl import (
    Checkpoint,
    Failed,
    Ports,
    Succeeded,
    Suspended,
    parse_definition,
    run_execution,
)

from conftest import FakeClock, FakeInvoker, execution_info

MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Task", "Resource": "arn:aws:states:::test:prepare", "ResultPath": "$.prepared", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::test:work", "ResultPath": "$.worked", "End": True},
    },
}


def test_a_failed_execution_keeps_the_journal_it_failed_with() -> None:
    tasks = FakeInvoker({"arn:aws:states:::test:prepare": 1, "arn:aws:states:::test:work": {"error": "App.Down", "cause": "later"}})
    outcome = run_execution(parse_definition(MACHINE), {}, execution_info(),
                            Ports(tasks=tasks, clock=FakeClock()))
    assert isinstance(outcome, Failed)
    assert outcome.checkpoint is not None
    calls = [e for e in outcome.checkpoint.entries if e["k"] == "task"]
    assert calls == [{"k": "task", "v": 1}, {"k": "task", "e": "App.Down", "c": "later"}]
    assert outcome.checkpoint.last_event_id == len(outcome.events)


def test_redrive_reruns_only_the_failed_state_and_continues_the_history() -> None:
    machine = parse_definition(MACHINE)
    first = FakeInvoker({"arn:aws:states:::test:prepare": 1, "arn:aws:states:::test:work": {"error": "App.Down", "cause": "later"}})
    failed = run_execution(machine, {"x": 1}, execution_info(), Ports(tasks=first, clock=FakeClock()))
    assert isinstance(failed, Failed) and failed.checkpoint is not None
    stored = len(failed.events) + 1  # + the ExecutionRedriven event the service appends
    # Given a checkpoint serialised and loaded again, as the control plane does
    checkpoint = Checkpoint.from_dict(json.loads(json.dumps(failed.checkpoint.for_redrive(stored).to_dict())))
    second = FakeInvoker({"arn:aws:states:::test:prepare": 99, "arn:aws:states:::test:work": "done"})
    # When the execution is run again from it
    outcome = run_execution(machine, None, execution_info(), Ports(tasks=second, clock=FakeClock()),
                            checkpoint=checkpoint)
    # Then only the failed Task ran again, with the first Task's recorded result
    assert isinstance(outcome, Succeeded)
    assert outcome.output == {"x": 1, "prepared": 1, "worked": "done"}
    assert [c.resource for c in second.calls] == ["arn:aws:states:::test:work"]
    # and the new events continue the stored history without reusing an id
    ids = [e["id"] for e in outcome.events]
    assert ids[0] == stored + 1
    assert ids == list(range(stored + 1, stored + 1 + len(ids)))
    # and the failed state is entered again: its events are those of a fresh run of it
    assert [e["type"] for e in outcome.events] == [
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "ExecutionSucceeded"]
    assert outcome.events[0]["stateEnteredEventDetails"]["name"] == "Work"
    assert [e["previousEventId"] for e in outcome.events[1:]] == ids[:-1]


def test_a_redriven_retry_attempt_and_a_second_redrive_keep_one_history() -> None:
    retried = {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": "arn:aws:states:::test:work", "End": True,
        "Retry": [{"ErrorEquals": ["App.Down"], "MaxAttempts": 1, "IntervalSeconds": 1}]}}}
    machine = parse_definition(retried)
    down = {"arn:aws:states:::test:work": {"error": "App.Down", "cause": "later"}}
    history: list[dict] = []
    outcome = run_execution(machine, {}, execution_info(), Ports(tasks=FakeInvoker(down), clock=FakeClock()))
    for answers in (down, {"arn:aws:states:::test:work": "done"}):
        assert isinstance(outcome, Failed) and outcome.checkpoint is not None
        history += outcome.events
        history.append({"id": len(history) + 1, "type": "ExecutionRedriven"})
        outcome = run_execution(machine, None, execution_info(),
                                Ports(tasks=FakeInvoker(answers), clock=FakeClock()),
                                checkpoint=outcome.checkpoint.for_redrive(len(history)))
        # Each redrive makes the last attempt again (the retrier is not reset)
        assert [e["type"] for e in outcome.events][:3] == ["TaskScheduled", "TaskStarted",
                                                           "TaskFailed" if answers is down else "TaskSucceeded"]
    assert isinstance(outcome, Succeeded) and outcome.output == "done"
    history += outcome.events
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    assert [e["type"] for e in history].count("TaskStateEntered") == 1


def test_redrive_of_a_failed_map_result_can_restart_the_map_run() -> None:
    checkpoint = Checkpoint(input={}, entries=[{"k": "map_start", "v": "arn:1"},
                                               {"k": "map_result", "e": "States.DataLimitExceeded", "c": ""}],
                            last_event_id=7)
    assert checkpoint.for_redrive(9).entries == [{"k": "map_start", "v": "arn:1"}]
    assert checkpoint.for_redrive(9, restart_map_run=True).entries == []


def test_events_after_a_redrive_survive_a_later_suspension() -> None:
    machine = parse_definition(MACHINE)
    first = FakeInvoker({"arn:aws:states:::test:prepare": 1, "arn:aws:states:::test:work": {"error": "App.Down", "cause": "later"}})
    failed = run_execution(machine, {}, execution_info(), Ports(tasks=first, clock=FakeClock()))
    assert isinstance(failed, Failed) and failed.checkpoint is not None
    history = list(failed.events) + [{"id": len(failed.events) + 1, "type": "ExecutionRedriven"}]
    redriven = failed.checkpoint.for_redrive(len(history))
    # Given the redriven Task answers later (it goes to a worker)
    suspended = run_execution(machine, None, execution_info(),
                              Ports(tasks=FakeInvoker(pending={"arn:aws:states:::test:work"}), clock=FakeClock()),
                              checkpoint=redriven)
    assert isinstance(suspended, Suspended)
    history += suspended.events
    # When its result arrives and the execution resumes in a fresh process
    checkpoint = Checkpoint.from_dict(json.loads(json.dumps(suspended.checkpoint.to_dict())))
    checkpoint.resolve("done")
    outcome = run_execution(machine, None, execution_info(),
                            Ports(tasks=FakeInvoker(), clock=FakeClock()), checkpoint=checkpoint)
    assert isinstance(outcome, Succeeded)
    history += outcome.events
    # Then the stored history has every event once, ids without gaps, the redriven state exiting
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    types = [e["type"] for e in history]
    assert types[-3:] == ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert types.count("ExecutionStarted") == 1
    assert types[types.index("ExecutionRedriven") + 1] == "TaskStateEntered"

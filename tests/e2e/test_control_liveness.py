"""Control messages lost with a killed control worker, on a real stack (issue 9, issue 11).

The control worker is SIGKILLed while it holds a message it took from the broker but did not
finish (a message in the broker's ``unacked`` set): with the broker's visibility timeout at
an hour (the default), nothing comes back through Celery, so whatever happens next happens
through stepmap's own liveness sweep (docs/architecture.md invariant 11). The sweep looks at
executions nobody advanced for 2 s here (``limits.stranded_execution_seconds``).

* A RedriveExecution whose ``redrive_execution`` message is lost: the sweep's advance used to
  run the unredriven journal and fail the execution again at once; now it applies the redrive.
* Child messages the broker lost before any worker took them (deleted from the queue while
  no children worker runs): their parked permits used to hold the children back for
  ``limits.parked_permit_seconds`` (an hour); now, the queue being empty, they get one lease
  and the children are dispatched again.
* A ``.waitForTaskToken`` Task whose heartbeat timer (a delayed ``callback_timer`` message
  the control worker holds until it is due) is lost: the Task used to wait forever; now the
  sweep's advance enforces the timer.

No assertion depends on wall time: timeouts only bound how long the test waits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
from e2e_support import E2E, distributed_map, make_stack, probe_task

from orchestrator import messages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"stranded_execution_seconds": 2, "lease_seconds": 2}},
                          workers=1, concurrency=2)


def _held(e2e: E2E, task_name: str) -> bool:
    """Whether a control process took a ``task_name`` message and has not acknowledged it."""
    return any(task_name.encode() in raw for raw in e2e.redis.hvals("unacked"))


def _kill_control_holding(e2e: E2E, task_name: str, action: Callable[[], Any], *,
                          freeze_pool: bool) -> None:
    """Run ``action``, wait until the control worker holds its ``task_name`` message, then
    SIGKILL the control worker (whole process group) and start a fresh one.

    ``freeze_pool``: stop the pool processes first (SIGSTOP), so that the message is taken by
    the worker's main process but never run before the kill.
    """
    control = e2e.stack.processes["control"]
    assert control.pid is not None
    pool = psutil.Process(control.pid).children(recursive=True)
    if freeze_pool:
        for proc in pool:
            proc.suspend()
    action()
    deadline = time.monotonic() + 30
    while not _held(e2e, task_name):
        if time.monotonic() > deadline:
            pytest.fail(f"the control worker did not take the {task_name} message")
        time.sleep(0.05)
    e2e.stack.restart_worker("control", kill=True)


def _fails_until_redriven() -> dict[str, Any]:
    # Items 1 and 3 fail until their child is redriven (probe-fail passes once RedriveCount
    # is above 0); one failure is tolerated, two fail the Map Run and the execution.
    child = {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "probe-fail", "Payload": {
            "probe.$": "$.probe", "id.$": "$.id", "fail_ids": [1, 3], "sleep": 0,
            "redrive.$": "$$.Execution.RedriveCount"}},
        "OutputPath": "$.Payload", "End": True}}}
    return {"StartAt": "Process", "States": {"Process": {
        "Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                              "ExecutionType": "STANDARD"}, **child},
        "End": True}}}


def test_a_redrive_whose_message_was_lost_with_a_killed_control_worker_still_happens(
        e2e: E2E) -> None:
    ns = e2e.unique("lostredrive")
    execution = e2e.start(e2e.create_machine(_fails_until_redriven()),
                          {"items": [{"probe": ns, "id": i} for i in range(5)]})
    first = e2e.wait(execution)
    assert (first["status"], first["error"]) == ("FAILED",
                                                 "States.ExceedToleratedFailureThreshold")
    (map_run,) = e2e.map_runs(execution)
    # When the control worker dies holding the redrive message
    _kill_control_holding(e2e, messages.REDRIVE_EXECUTION,
                          lambda: e2e.sfn.redrive_execution(executionArn=execution),
                          freeze_pool=True)
    # Then the redrive happens all the same: the same Map Run's failed children run again
    second = e2e.wait(execution, timeout=90)
    assert second["status"] == "SUCCEEDED", second
    assert second["redriveCount"] == 1
    assert sorted(json.loads(second["output"]), key=lambda r: r["id"]) == [
        {"id": i, "out": i * 10} for i in range(5)]
    assert [r["mapRunArn"] for r in e2e.map_runs(execution)] == [map_run["mapRunArn"]]
    described = e2e.sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
    types = [e["type"] for e in e2e.history(execution)]
    assert types.count("ExecutionRedriven") == 1 and types.count("MapRunRedriven") == 1


def _claims(e2e: E2E, map_run_arn: str) -> list[bytes]:
    return list(e2e.redis.scan_iter(match=f"*{map_run_arn}:sem:claims"))


def test_a_map_run_leaves_no_permit_claims_behind_when_it_ends_or_is_redriven(e2e: E2E) -> None:
    # Regression (issue 9): every claimed permit stayed in the claims hash after the run.
    ns = e2e.unique("claims")
    execution = e2e.start(e2e.create_machine(_fails_until_redriven()),
                          {"items": [{"probe": ns, "id": i} for i in range(5)]})
    assert e2e.wait(execution)["status"] == "FAILED"
    (map_run,) = e2e.map_runs(execution)
    assert e2e.redis.exists(*[k for k in e2e.redis.scan_iter(match=f"*{map_run['mapRunArn']}:*")])
    assert _claims(e2e, map_run["mapRunArn"]) == []
    e2e.sfn.redrive_execution(executionArn=execution)
    assert e2e.wait(execution)["status"] == "SUCCEEDED"
    assert _claims(e2e, map_run["mapRunArn"]) == []


def test_a_heartbeat_timer_lost_with_a_killed_control_worker_still_times_the_task_out(
        e2e: E2E) -> None:
    ns = e2e.unique("losttimer")
    definition = {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "probe-token",
                       "Payload": {"probe": ns, "id": 0, "token.$": "$$.Task.Token"}},
        "HeartbeatSeconds": 3, "End": True}}}
    machine = e2e.create_machine(definition)
    # When the control worker dies holding the Task's heartbeat timer (nobody ever answers)
    holder: dict[str, str] = {}
    _kill_control_holding(e2e, messages.CALLBACK_TIMER,
                          lambda: holder.update(arn=e2e.start(machine, {})), freeze_pool=False)
    # Then the Task still times out on its heartbeat
    described = e2e.wait(holder["arn"], timeout=90)
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_children_whose_messages_the_broker_lost_are_dispatched_again(e2e: E2E) -> None:
    ns = e2e.unique("lostmsg")
    queue = e2e.stack.settings.celery.children_queue if e2e.stack.settings else ""
    e2e.stack.kill_worker("children-1")  # nobody takes the messages now
    try:
        definition = distributed_map(probe_task(), "Work", ItemsPath="$.items")
        execution = e2e.start(e2e.create_machine(definition),
                              {"items": [{"probe": ns, "id": i, "sleep": 0} for i in range(3)]})
        deadline = time.monotonic() + 30
        while e2e.redis.llen(queue) == 0:
            if time.monotonic() > deadline:
                pytest.fail("no child message reached the queue")
            time.sleep(0.05)
        time.sleep(0.5)  # every message of the segment is in
        # When the broker loses them (as a worker killed between taking a message and
        # noting it as unacknowledged does)
        assert e2e.redis.delete(queue) == 1
    finally:
        e2e.stack.restart_worker("children-1")
    # Then the children are dispatched again and run, once each
    described = e2e.wait(execution, timeout=90)
    assert described["status"] == "SUCCEEDED", described
    assert sorted(s["id"] for s in e2e.probe(ns, "starts")) == [0, 1, 2]


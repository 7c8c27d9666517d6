"""RedriveExecution and StopExecution of a parent with a Distributed Map, on a real stack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import E2E, counts_add_up, make_stack

from orchestrator.store.keys import Keys


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=4)


def _task(handler: str, next_or_end: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": handler, "Payload.$": "$"},
            "OutputPath": "$.Payload", **next_or_end}


def _redrivable_machine() -> dict[str, Any]:
    # Children fail in MayFail for the listed ids until they are redriven; First records, in
    # its own probe namespace, every time it runs.
    child = {"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "probe-gauge", "Payload": {
                      "probe.$": "States.Format('{}-first', $.probe)", "id.$": "$.id", "sleep": 0}},
                  "ResultPath": None, "Next": "MayFail"},
        "MayFail": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "probe-fail", "Payload": {
                        "probe.$": "$.probe", "id.$": "$.id", "fail_ids.$": "$.fail_ids",
                        "sleep": 0, "redrive.$": "$$.Execution.RedriveCount"}},
                    "OutputPath": "$.Payload", "End": True},
    }}
    return {"StartAt": "Process", "States": {
        "Process": {"Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1,
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                                          "ExecutionType": "STANDARD"}, **child},
                    "ResultPath": "$.results", "Next": "Done"},
        "Done": {"Type": "Pass", "OutputPath": "$.results", "End": True}}}


def test_redrive_reruns_only_the_failed_children_of_the_same_map_run(e2e: E2E) -> None:
    ns = e2e.unique("redrive")
    items = [{"probe": ns, "id": i, "sleep": 0, "fail_ids": [2, 5, 7]} for i in range(10)]
    execution = e2e.start(e2e.create_machine(_redrivable_machine()), {"items": items})
    # Given the first attempt fails on the threshold (a second failure > 1 tolerated)
    first = e2e.wait(execution)
    assert first["status"] == "FAILED"
    assert first["error"] == "States.ExceedToleratedFailureThreshold"
    (run,) = e2e.map_runs(execution)
    counts = e2e.sfn.describe_map_run(mapRunArn=run["mapRunArn"])["itemCounts"]
    assert counts["failed"] >= 2 and counts["succeeded"] < 10
    assert counts_add_up(counts)
    succeeded_first = {
        json.loads(e2e.sfn.describe_execution(executionArn=c["executionArn"])["input"])["id"]
        for c in e2e.children(run["mapRunArn"], "SUCCEEDED")
    }
    assert len(succeeded_first) == counts["succeeded"]
    failed_first = {
        json.loads(e2e.sfn.describe_execution(executionArn=c["executionArn"])["input"])["id"]
        for c in e2e.children(run["mapRunArn"], "FAILED")
    }
    assert len(failed_first) == counts["failed"]
    # When the parent is redriven
    e2e.sfn.redrive_execution(executionArn=execution)
    second = e2e.wait(execution)
    # Then it succeeds with the same Map Run; what had succeeded did not run again
    assert second["status"] == "SUCCEEDED", second
    assert second["redriveCount"] == 1
    assert json.loads(second["output"]) == [{"id": i, "out": i * 10} for i in range(10)]
    assert [r["mapRunArn"] for r in e2e.map_runs(execution)] == [run["mapRunArn"]]
    described = e2e.sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["redriveCount"] == 1
    assert described["itemCounts"]["succeeded"] == 10 and described["itemCounts"]["failed"] == 0
    # Observed on AWS: children the redrive did not rerun keep redriveCount 0 in ListExecutions
    counts_by_id = {
        json.loads(e2e.sfn.describe_execution(executionArn=c["executionArn"])["input"])["id"]:
        c["redriveCount"] for c in e2e.children(run["mapRunArn"])}
    assert all(counts_by_id[i] == 0 for i in succeeded_first), counts_by_id
    assert all(counts_by_id[i] == 1 for i in failed_first), counts_by_id
    done = [r["id"] for r in e2e.probe(ns, "done")]
    assert set(done) == set(range(10))
    assert all(done.count(i) == 1 for i in succeeded_first)
    # A FAILED child resumed at the state that failed: First did not run again (an ABORTED
    # child, stopped mid-run without a journal, starts over)
    firsts = [r["id"] for r in e2e.probe(f"{ns}-first", "starts")]
    assert set(firsts) == set(range(10))
    assert all(firsts.count(i) == 1 for i in failed_first | succeeded_first), firsts
    # and its history goes on: ExecutionRedriven, MayFail again, ExecutionSucceeded
    prefix = run["mapRunArn"].replace(":mapRun:", ":execution:").rsplit(":", 1)[0] + ":"
    failed_arn = next(c["executionArn"] for c in e2e.children(run["mapRunArn"])
                      if json.loads(e2e.sfn.describe_execution(
                          executionArn=c["executionArn"])["input"])["id"] in failed_first)
    assert failed_arn.startswith(prefix)
    child_events = e2e.history(failed_arn)
    assert [e["id"] for e in child_events] == list(range(1, len(child_events) + 1))
    child_types = [e["type"] for e in child_events]
    at = child_types.index("ExecutionRedriven")
    assert child_types[at - 1] == "ExecutionFailed" and child_types[-1] == "ExecutionSucceeded"
    entered_after = [e["stateEnteredEventDetails"]["name"] for e in child_events[at:]
                     if e["type"] == "TaskStateEntered"]
    assert entered_after == ["MayFail"], child_types[at:]
    assert child_types[at + 1] == "TaskStateEntered"
    # and the history goes on after the redrive without reusing an id
    events = e2e.history(execution)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    types = [e["type"] for e in events]
    assert types.index("ExecutionRedriven") < types.index("MapRunRedriven") < types.index("MapRunSucceeded")
    assert types[-1] == "ExecutionSucceeded"
    # The Map Run is redriven, not started again
    assert types[types.index("ExecutionRedriven"):][:3] == [
        "ExecutionRedriven", "MapRunRedriven", "MapRunSucceeded"]


def test_stop_execution_aborts_its_map_run(e2e: E2E) -> None:
    ns = e2e.unique("stop")
    definition = {"StartAt": "Slow", "States": {"Slow": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Work", "States": {"Work": _task("probe-gauge", {"End": True})}},
        "End": True}}}
    items = [{"probe": ns, "id": i, "sleep": 0.5} for i in range(20)]
    execution = e2e.start(e2e.create_machine(definition), {"items": items})
    run_arn = e2e.wait_map_run(execution)
    deadline = time.monotonic() + 30
    while not e2e.probe(ns, "done") and time.monotonic() < deadline:
        time.sleep(0.1)
    # When the parent is stopped while children run
    stopped_at = time.time()
    e2e.sfn.stop_execution(executionArn=execution, error="Operator.Stop", cause="enough")
    # Then the execution is ABORTED and its Map Run ends ABORTED, with counts that add up
    assert e2e.wait(execution)["status"] == "ABORTED"
    deadline = time.monotonic() + 30
    run = e2e.sfn.describe_map_run(mapRunArn=run_arn)
    while run["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
        run = e2e.sfn.describe_map_run(mapRunArn=run_arn)
    assert run["status"] == "ABORTED"
    counts = run["itemCounts"]
    assert counts_add_up(counts)
    assert counts["pending"] > 0 and counts["running"] == 0
    assert counts["succeeded"] + counts["aborted"] + counts["pending"] == 20
    # and no child started once the abort had been applied
    time.sleep(1.0)
    late = [s for s in e2e.probe(ns, "starts") if s["t"] > stopped_at + 1.0]
    assert late == []

    # Regression (issue 9): a redrive then failed at once with States.MapRunFailed and an
    # empty cause. It redrives the aborted Map Run: the unfinished items run, the others not.
    # (children running at the stop were ABORTED even if their handler then returned)
    finished = {d["id"] for d in e2e.probe(ns, "done") if d["stop"] < stopped_at - 0.5}
    e2e.sfn.redrive_execution(executionArn=execution)
    described = e2e.wait(execution, timeout=60)
    assert described["status"] == "SUCCEEDED", described
    assert [o["id"] for o in json.loads(described["output"])] == list(range(20))
    run = e2e.sfn.describe_map_run(mapRunArn=run_arn)
    assert run["status"] == "SUCCEEDED" and run["redriveCount"] == 1
    assert run["itemCounts"]["succeeded"] == 20 and counts_add_up(run["itemCounts"])
    rerun = [s["id"] for s in e2e.probe(ns, "starts")
             if s["t"] > stopped_at + 1.0 and s["id"] in finished]
    assert rerun == []


def test_execution_of_a_definition_the_engine_cannot_parse_fails_instead_of_hanging(e2e: E2E) -> None:
    # Given a machine whose stored definition the engine refuses (stored before a rule
    # existed, or edited in Redis)
    machine = e2e.create_machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}})
    key = Keys(e2e.stack.settings.redis.key_prefix).state_machine(machine)
    e2e.redis.hset(key, "definition", broken)
    # When an execution starts, then it fails with the engine's reason
    described = e2e.wait(e2e.start(machine, {}))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "SCHEMA_VALIDATION_FAILED" in described["cause"] and "/States/A/Type" in described["cause"]


def test_a_machine_deleted_while_running_is_removed_when_the_execution_ends(e2e: E2E) -> None:
    machine = e2e.create_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1,
                                                                    "End": True}}})
    execution = e2e.start(machine, {})
    e2e.sfn.delete_state_machine(stateMachineArn=machine)
    assert e2e.sfn.describe_state_machine(stateMachineArn=machine)["status"] == "DELETING"
    assert e2e.wait(execution)["status"] == "SUCCEEDED"
    with pytest.raises(e2e.sfn.exceptions.StateMachineDoesNotExist):
        e2e.sfn.describe_state_machine(stateMachineArn=machine)

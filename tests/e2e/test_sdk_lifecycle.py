"""A Distributed Map's whole life seen through the AWS SDK only (boto3 against stepmap's API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_support import E2E, counts_add_up, distributed_map, make_stack, probe_task


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=4)


@pytest.fixture(scope="module")
def finished_run(e2e: E2E) -> dict[str, Any]:
    """A parent whose Distributed Map ran 12 probe children to success."""
    ns = e2e.unique("life")
    definition = distributed_map(
        probe_task(), "Work", MaxConcurrency=3,
        ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value", "sleep": 0},
    )
    machine = e2e.create_machine(definition)
    arn = e2e.start(machine, list(range(12)))
    described = e2e.wait(arn)
    return {"arn": arn, "machine": machine, "described": described, "ns": ns}


def test_parent_execution_succeeds_with_one_output_per_item(finished_run: dict[str, Any]) -> None:
    described = finished_run["described"]
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [{"id": i, "out": i * 10} for i in range(12)]


def test_list_map_runs_names_the_one_map_run_of_the_parent(e2e: E2E, finished_run: dict[str, Any]) -> None:
    runs = e2e.sfn.list_map_runs(executionArn=finished_run["arn"])["mapRuns"]
    assert len(runs) == 1
    assert runs[0]["executionArn"] == finished_run["arn"]
    assert runs[0]["mapRunArn"].startswith(
        finished_run["machine"].replace(":stateMachine:", ":mapRun:") + "/")
    assert "stopDate" in runs[0]


def test_describe_map_run_reports_every_item_succeeded(e2e: E2E, finished_run: dict[str, Any]) -> None:
    (run,) = e2e.map_runs(finished_run["arn"])
    assert run["status"] == "SUCCEEDED"
    assert run["executionArn"] == finished_run["arn"]
    assert run["maxConcurrency"] == 3
    assert run["toleratedFailureCount"] == 0
    assert run["toleratedFailurePercentage"] == 0.0
    for counts in (run["itemCounts"], run["executionCounts"]):
        assert {k: counts[k] for k in ("pending", "running", "succeeded", "failed", "timedOut",
                                       "aborted", "total", "resultsWritten")} == {
            "pending": 0, "running": 0, "succeeded": 12, "failed": 0, "timedOut": 0,
            "aborted": 0, "total": 12, "resultsWritten": 12}
        assert counts_add_up(counts)
    assert run["startDate"] <= run["stopDate"]


def test_list_executions_by_map_run_lists_every_child(e2e: E2E, finished_run: dict[str, Any]) -> None:
    (run,) = e2e.map_runs(finished_run["arn"])
    children = e2e.children(run["mapRunArn"])
    assert len(children) == 12
    assert len({c["executionArn"] for c in children}) == 12
    assert {c["status"] for c in children} == {"SUCCEEDED"}
    assert {c["mapRunArn"] for c in children} == {run["mapRunArn"]}
    assert {c["itemCount"] for c in children} == {1}
    assert len(e2e.children(run["mapRunArn"], status="FAILED")) == 0
    assert len(e2e.children(run["mapRunArn"], status="SUCCEEDED")) == 12


def test_a_standard_child_can_be_described_and_has_a_history(e2e: E2E, finished_run: dict[str, Any]) -> None:
    (run,) = e2e.map_runs(finished_run["arn"])
    outputs = {}
    for child in e2e.children(run["mapRunArn"]):
        described = e2e.sfn.describe_execution(executionArn=child["executionArn"])
        assert described["status"] == "SUCCEEDED"
        assert described["mapRunArn"] == run["mapRunArn"]
        item = json.loads(described["input"])
        assert item == {"probe": finished_run["ns"], "id": item["id"], "sleep": 0}
        outputs[item["id"]] = json.loads(described["output"])
    assert outputs == {i: {"id": i, "out": i * 10} for i in range(12)}

    child_arn = e2e.children(run["mapRunArn"])[0]["executionArn"]
    events = e2e.history(child_arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, 8))
    final = json.loads(events[-1]["executionSucceededEventDetails"]["output"])
    assert final == json.loads(e2e.sfn.describe_execution(executionArn=child_arn)["output"])


def test_parent_history_brackets_the_map_run(e2e: E2E, finished_run: dict[str, Any]) -> None:
    events = e2e.history(finished_run["arn"])
    types = [e["type"] for e in events]
    assert types == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted",
                     "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    (run,) = e2e.map_runs(finished_run["arn"])
    started = events[types.index("MapRunStarted")]
    assert started["mapRunStartedEventDetails"]["mapRunArn"] == run["mapRunArn"]
    assert events[types.index("MapStateStarted")]["mapStateStartedEventDetails"]["length"] == 12


def test_malformed_definition_lists_every_problem_and_the_server_keeps_serving(e2e: E2E) -> None:
    bad = {
        "StartAt": "Nowhere",
        "States": {
            "A": {"Type": "Pass", "Next": "Missing"},
            "B": {"Type": "Bogus", "End": True},
            "M": {"Type": "Map", "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}},
                "MaxConcurrency": -1, "End": True},
        },
    }
    with pytest.raises(e2e.sfn.exceptions.InvalidDefinition) as caught:
        e2e.sfn.create_state_machine(name=e2e.unique("bad"), definition=json.dumps(bad),
                                     roleArn="arn:aws:iam::000000000000:role/x")
    message = caught.value.response["Error"]["Message"]
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    for where in ("/StartAt", "/States/A/Next", "/States/B/Type", "/States/M/MaxConcurrency"):
        assert where in message, (where, message)

    # The server still serves: a valid machine is created and runs.
    ok = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
    described = e2e.run(ok, {})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"ok": 1}

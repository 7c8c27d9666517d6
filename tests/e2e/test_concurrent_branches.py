"""Parallel branches and inline Map iterations overlap on a real stack (issue 10, part 2).

The Tasks call ``probe-barrier``, which succeeds only when all the calls of its group are in
flight at once; the handlers also record their start and stop, and the tests check that
every call started before any ended. No assertion depends on wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import E2E, distributed_map, make_stack


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    # Parent Tasks are Celery messages: a slot each, so at least five slots for five at once.
    yield from make_stack(workers=1, concurrency=6)


def _barrier_task(ns: str, parties: int, group: str, item: str = "$") -> dict[str, Any]:
    return {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "probe-barrier",
                       "Payload": {"probe": ns, "parties": parties, "group.$": group,
                                   "id.$": item}},
        "OutputPath": "$.Payload",
    }


def _parallel(ns: str, group: str, nxt: str | None = None) -> dict[str, Any]:
    branches = []
    for i in range(3):
        state = {**_barrier_task(ns, 3, group, f"States.Format('b{i}-{{}}', {group})"),
                 "End": True}
        branches.append({"StartAt": f"Branch{i}", "States": {f"Branch{i}": state}})
    out: dict[str, Any] = {"Type": "Parallel", "Branches": branches}
    out.update({"Next": nxt} if nxt else {"End": True})
    return out


def _inline_map(ns: str, group: str, nxt: str | None = None) -> dict[str, Any]:
    item = {**_barrier_task(ns, 5, "$.group", "$.item"), "End": True}
    out: dict[str, Any] = {
        "Type": "Map", "MaxConcurrency": 5, "ItemsPath": "$.items",
        "ItemSelector": {"item.$": "$$.Map.Item.Value", "group.$": group},
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": item}},
        "ResultPath": "$.mapped",
    }
    out.update({"Next": nxt} if nxt else {"End": True})
    return out


def _overlapped(e2e: E2E, ns: str, sizes: dict[str, int]) -> None:
    """Each group had its calls, and every one started before any call of the group ended."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in e2e.probe(ns, "done"):
        groups.setdefault(record["group"], []).append(record)
    assert {g: len(r) for g, r in groups.items()} == sizes
    for records in groups.values():
        assert max(r["start"] for r in records) < min(r["stop"] for r in records), records


def test_parent_parallel_runs_three_tasks_at_once(e2e: E2E) -> None:
    ns = e2e.unique("par")
    definition = {"StartAt": "P", "States": {"P": _parallel(ns, "$.g")}}
    arn = e2e.start(e2e.create_machine(definition), {"g": "p"})
    result = e2e.wait(arn)
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    _overlapped(e2e, ns, {"p": 3})
    assert e2e.probe_peak(ns) == 3
    types = [e["type"] for e in e2e.history(arn)]
    assert types.count("TaskStateEntered") == 3
    assert types.index("TaskSucceeded") > max(
        i for i, t in enumerate(types) if t == "TaskScheduled")


def test_parent_inline_map_runs_five_iterations_at_once(e2e: E2E) -> None:
    ns = e2e.unique("map")
    definition = {"StartAt": "M", "States": {"M": _inline_map(ns, "$.g")}}
    arn = e2e.start(e2e.create_machine(definition), {"g": "m", "items": [1, 2, 3, 4, 5]})
    result = e2e.wait(arn)
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    _overlapped(e2e, ns, {"m": 5})
    types = [e["type"] for e in e2e.history(arn)]
    last_start = max(i for i, t in enumerate(types) if t == "MapIterationStarted")
    assert types.count("MapIterationStarted") == 5
    assert last_start < types.index("MapIterationSucceeded")


def test_distributed_map_children_run_branches_and_iterations_at_once(e2e: E2E) -> None:
    ns = e2e.unique("child")
    processor = {
        "Fan": _parallel(ns, "States.Format('p-{}', $.id)", "Each"),
        "Each": _inline_map(ns, "States.Format('m-{}', $.id)"),
    }
    # The Parallel replaces the child's input with its branch outputs; keep the input.
    processor["Fan"]["ResultPath"] = "$.fanned"
    definition = distributed_map(processor, "Fan", ItemsPath="$.children")
    children = [{"id": i, "items": [1, 2, 3, 4, 5]} for i in range(2)]
    arn = e2e.start(e2e.create_machine(definition), {"children": children})
    result = e2e.wait(arn, timeout=90)
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    _overlapped(e2e, ns, {"p-0": 3, "p-1": 3, "m-0": 5, "m-1": 5})


def test_parent_branch_failure_ends_the_parallel_while_its_sibling_still_runs(e2e: E2E) -> None:
    ns = e2e.unique("cancel")
    failing = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": "probe-fail",
                              "Payload": {"probe": ns, "id": "a", "fail_ids": ["a"]}},
               "End": True}
    # Stuck at a barrier of two that only the test completes, after the execution ended.
    stuck = {**_barrier_task(ns, 2, "$.g", "$.g"), "Next": "After"}
    stuck["Parameters"]["Payload"]["patience"] = 60
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": failing}},
        {"StartAt": "B", "States": {"B": stuck,
                                    "After": {"Type": "Pass", "End": True}}},
    ]}}}
    arn = e2e.start(e2e.create_machine(definition), {"g": "held"})
    try:
        result = e2e.wait(arn)
        assert result["status"] == "FAILED" and result["error"] == "Probe.Failure", result
        types = [e["type"] for e in e2e.history(arn)]
        assert types.count("ParallelStateFailed") == 1
        assert "PassStateEntered" not in types
        # The sibling had been sent to a worker and cannot have ended yet: the failure ended
        # the Parallel while it ran (its start may be recorded after the failure).
        give_up = time.monotonic() + 30
        while {s["id"] for s in e2e.probe(ns, "starts")} != {"a", "held"}:
            assert time.monotonic() < give_up, e2e.probe(ns, "starts")
            time.sleep(0.05)
        assert e2e.probe(ns, "done") == []
    finally:
        e2e.redis.incr(f"probe:{ns}:arrived:held")  # let the abandoned handler return

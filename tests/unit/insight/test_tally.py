"""Totals of finished items and children built from Map Run counters (no Redis needed)."""

from __future__ import annotations

from typing import Any

from orchestrator.insight import RunSnapshot, machine_name
from orchestrator.insight.tally import Tally


def _run(arn: str, succeeded: int, failed: int = 0, machine: str = "etl") -> RunSnapshot:
    counts: dict[str, Any] = {"succeeded": succeeded, "failed": failed, "timedOut": 0,
                              "aborted": 0}
    return RunSnapshot(arn, machine, {"itemCounts": counts, "executionCounts": dict(counts)})


def test_totals_grow_by_what_each_open_run_finished_since_the_last_look() -> None:
    tally = Tally()
    tally.update([_run("a", 3), _run("b", 1, 1)], lambda arn: None)
    tally.update([_run("a", 5), _run("b", 1, 2)], lambda arn: None)
    items, children = tally.snapshot()
    assert items == {("etl", "SUCCEEDED"): 6, ("etl", "FAILED"): 2}
    assert children == items


def test_a_run_that_closed_between_looks_counts_up_to_its_final_counters() -> None:
    tally = Tally()
    tally.update([_run("a", 3)], lambda arn: None)
    tally.update([], lambda arn: _run(arn, 10, 1))
    tally.update([], lambda arn: _run(arn, 99))  # forgotten once closed: no double count
    items, _ = tally.snapshot()
    assert items == {("etl", "SUCCEEDED"): 10, ("etl", "FAILED"): 1}


def test_counters_going_down_after_a_redrive_never_move_a_total_backwards() -> None:
    tally = Tally()
    tally.update([_run("a", 5, 3)], lambda arn: None)
    tally.update([_run("a", 7, 0)], lambda arn: None)
    items, _ = tally.snapshot()
    assert items == {("etl", "SUCCEEDED"): 7, ("etl", "FAILED"): 3}


def test_machine_name_is_read_from_parent_and_child_execution_arns() -> None:
    parent = "arn:aws:states:us-east-1:000000000000:execution:etl:run-1"
    child = "arn:aws:states:us-east-1:000000000000:execution:etl/Map:0b1c"
    assert machine_name(parent) == machine_name(child) == "etl"
    assert machine_name("nonsense") == ""

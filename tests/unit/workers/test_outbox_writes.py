"""STANDARD outcomes reach the outbox once per message for instant children, per child otherwise.

A child whose ItemProcessor only has Pass/Choice/Succeed/Fail states has no effect outside its
execution, so its outcome waits for the message's one outbox write (a Redis round trip per
child was the largest per-child cost of batch-1 STANDARD children). A child that calls a Task
puts its outcome in the outbox the moment it ends, as before (docs/architecture.md invariant 10).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from maprun_world import PROCESSOR, World, request

import workers.handlers.examples  # noqa: F401 - registers the "echo" handler
from orchestrator import messages
from orchestrator.statuses import ChildStatus, MapRunStatus


class CountingLedger:
    """The world's ledger, with every ``report_early`` call recorded."""

    def __init__(self, inner: messages.ChildLedger) -> None:
        self.inner = inner
        self.writes: list[list[int]] = []

    def report_early(self, batch: messages.ChildBatch,
                     outcomes: Sequence[messages.ChildOutcome]) -> None:
        self.writes.append([o.index for o in outcomes])
        self.inner.report_early(batch, outcomes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _run(processor: dict[str, Any], count: int) -> tuple[World, CountingLedger, str,
                                                          list[messages.ChildrenReport]]:
    world = World()
    ledger = CountingLedger(world.runner.ledger)
    world.runner.ledger = ledger
    items = [{"id": i, "fail": False} for i in range(count)]
    arn = world.start(dataclasses.replace(request(items, max_concurrency=0),
                                          processor=processor))
    world.run_control()
    batches = [b for segment in world.bus.segments for b in segment[0]]
    return world, ledger, arn, world.run_children(batches)


def test_a_message_of_instant_standard_children_writes_the_outbox_once() -> None:
    world, ledger, arn, reports = _run(PROCESSOR, 5)
    assert [len(r.outcomes) for r in reports] == [5]
    assert ledger.writes == [[0, 1, 2, 3, 4]]
    outcomes = reports[0].outcomes
    assert all(o.status == ChildStatus.SUCCEEDED for o in outcomes)
    # The outbox still holds every outcome until the control plane records it
    assert world.store.late_outcomes(arn, list(range(5))) == outcomes


def test_children_that_call_a_task_write_their_outcome_as_each_one_ends() -> None:
    task = {**PROCESSOR, "StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:echo",
        "End": True}}}
    world, ledger, arn, reports = _run(task, 3)
    indexes = [o.index for r in reports for o in r.outcomes]
    assert sorted(indexes) == [0, 1, 2]
    assert ledger.writes == [[i] for i in indexes]
    assert world.store.late_outcomes(arn, [0, 1, 2]) == sorted(
        (o for r in reports for o in r.outcomes), key=lambda o: o.index)


class WorkerKilled(BaseException):
    """The worker process dies (SIGKILL) at the point the ledger is called."""


class DiesBeforeTheOutboxWrite(CountingLedger):
    def report_early(self, batch: messages.ChildBatch,
                     outcomes: Sequence[messages.ChildOutcome]) -> None:
        raise WorkerKilled


def test_instant_children_whose_worker_died_before_the_write_run_again_and_count_once() -> None:
    world = World()
    world.runner.ledger = DiesBeforeTheOutboxWrite(world.runner.ledger)
    arn = world.start(request([{"id": i, "fail": False} for i in range(4)], max_concurrency=0))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    # When the worker dies after running the message's children, before their outbox write
    try:
        world.run_children(batches)
    except WorkerKilled:
        pass
    else:
        raise AssertionError("the worker should have died")
    assert world.store.late_outcomes(arn, list(range(4))) == [None] * 4
    # Then their permits lapse, they are dispatched again and run on a live worker
    world.runner.ledger = world.runner.ledger.inner  # type: ignore[attr-defined]
    world.clock.advance(world.settings.limits.lease_seconds + 1)
    world.coordinator.reconcile()
    world.drain()
    # And every child is counted exactly once, the run SUCCEEDED
    item_counts, exec_counts = world.store.counters(arn)
    assert (item_counts.succeeded, item_counts.total, item_counts.running) == (4, 4, 0)
    assert exec_counts.succeeded == 4
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.SUCCEEDED

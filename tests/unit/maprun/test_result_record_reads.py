"""The result writers read children's records and inputs a few at a time (``result_records``).

A read takes as many children as about ``READ_BYTES`` of their inputs and outputs hold, judged
by the previous read (issue 14: 64 inputs of 1,000 CSV rows at once were 3 MiB, held twice,
so the control worker's peak grew with the batches). Counted on the memory store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from maprun_world import World, request

from orchestrator.maprun import result_records
from orchestrator.maprun.result_records import CHUNK, FIRST_READ, READ_BYTES, ReadBudget
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_memory import MemoryMapRunStore


class CountingStore(MemoryMapRunStore):
    """The memory store, noting how many children each read of inputs and records takes."""

    def __init__(self) -> None:
        super().__init__()
        self.input_reads: list[int] = []
        self.record_reads: list[int] = []

    def child_inputs(self, arn: str, indexes: Sequence[int]) -> list[str | None]:
        self.input_reads.append(len(indexes))
        return super().child_inputs(arn, indexes)

    def child_records(self, arn: str, indexes: Sequence[int]) -> Any:
        self.record_reads.append(len(indexes))
        return super().child_records(arn, indexes)


def _ended_run(items: list[dict[str, Any]]) -> tuple[World, CountingStore, str]:
    store = CountingStore()
    world = World(store=store, ledger=store.ledger())
    arn = world.start(request(items))
    world.drain()
    run = store.get(arn)
    assert run is not None and run.status is MapRunStatus.SUCCEEDED
    store.input_reads.clear()
    store.record_reads.clear()
    return world, store, arn


def _children(world: World, arn: str) -> list[result_records.Child]:
    run = world.store.get(arn)
    assert run is not None
    return list(result_records.children(world.coordinator.deps, run,
                                        inputs_for=result_records.ALL_STATUSES))


def test_children_with_large_inputs_are_read_a_few_at_a_time() -> None:
    pad = "x" * 200_000
    world, store, arn = _ended_run([{"id": i, "fail": False, "pad": pad} for i in range(40)])
    children = _children(world, arn)
    # Every child comes back, in order, with its whole input
    assert [c[0] for c in children] == list(range(40))
    assert [json.loads(c[3])["id"] for c in children] == list(range(40))
    assert all(json.loads(c[3])["pad"] == pad for c in children)
    # First a few, then as many as ~READ_BYTES of 200-KB inputs hold (not 40 at once)
    assert store.input_reads[0] == FIRST_READ
    assert max(store.input_reads[1:]) == READ_BYTES // 200_000
    assert store.record_reads == store.input_reads
    assert sum(store.input_reads) == 40


def test_children_with_small_inputs_are_still_read_a_chunk_at_a_time() -> None:
    world, store, arn = _ended_run([{"id": i, "fail": False} for i in range(130)])
    children = _children(world, arn)
    assert [c[0] for c in children] == list(range(130))
    # The budget carries over from one chunk of statuses to the next
    assert store.input_reads == [FIRST_READ, CHUNK - FIRST_READ, CHUNK, 2]


def test_the_budget_counts_between_one_child_and_a_chunk() -> None:
    budget = ReadBudget()
    assert budget.count(100) == FIRST_READ
    assert budget.count(2) == 2
    budget.per_child = 10 * READ_BYTES  # one child alone is over the budget
    assert budget.count(100) == 1
    budget.per_child = 0  # children without input nor output
    assert budget.count(1000) == CHUNK
    budget.per_child = READ_BYTES // 10
    assert budget.count(100) == 10
    assert budget.count(3) == 3

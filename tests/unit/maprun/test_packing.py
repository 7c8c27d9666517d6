"""Children per message: packed under large limits, spread only when a child may wait."""

from __future__ import annotations

from typing import Any

import pytest
from maprun_world import World, request

from orchestrator.asl import is_instant
from orchestrator.maprun import packing


def _processor(*states: dict[str, Any]) -> dict[str, Any]:
    names = [f"S{i}" for i in range(len(states))]
    return {"StartAt": names[0], "States": dict(zip(names, states, strict=True))}


PASS = {"Type": "Pass", "End": True}
TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "End": True}


def test_only_states_that_never_wait_make_an_instant_processor() -> None:
    choice = {"Type": "Choice", "Choices": [], "Default": "S1"}
    assert is_instant(_processor(choice, PASS, {"Type": "Succeed"}, {"Type": "Fail"}))
    assert not is_instant(_processor(PASS, TASK))
    assert not is_instant(_processor({"Type": "Wait", "Seconds": 1, "End": True}))
    assert not is_instant({"StartAt": "X", "States": {}})


def test_inline_map_and_parallel_are_instant_only_when_what_they_run_is() -> None:
    inline = {"Type": "Map", "ItemProcessor": _processor(PASS), "End": True}
    parallel = {"Type": "Parallel", "Branches": [_processor(PASS), _processor(PASS)], "End": True}
    assert is_instant(_processor(inline))
    assert is_instant(_processor(parallel))
    waiting_inline = {"Type": "Map", "ItemProcessor": _processor(TASK), "End": True}
    waiting_branch = {"Type": "Parallel", "Branches": [_processor(PASS), _processor(TASK)],
                      "End": True}
    distributed = {"Type": "Map", "End": True, "ItemProcessor": {
        **_processor(PASS), "ProcessorConfig": {"Mode": "DISTRIBUTED"}}}
    for state in (waiting_inline, waiting_branch, distributed):
        assert not is_instant(_processor(state))


def test_a_small_map_run_of_instant_children_is_packed_and_one_that_may_wait_is_spread() -> None:
    # MaxConcurrency 0 (10,000) and a backlog of 100 children: Pass children fill 128-child
    # messages; Task children go one to a message so that a slow one delays nobody.
    assert packing.per_message(10_000, 128, 100, instant=True) == 128
    assert packing.per_message(10_000, 128, 100, instant=False) == 1
    assert packing.per_message(10_000, 128, 64 * 128, instant=False) == 128
    # A small limit keeps one child per message either way (every permit a worker slot).
    assert packing.per_message(3, 128, 100, instant=True) == 1


@pytest.mark.parametrize(("items", "largest"), [(100, 100), (10_000, 512)])
def test_the_dispatcher_packs_pass_children_up_to_the_instant_ceiling(items: int,
                                                                      largest: int) -> None:
    # 100 children go as one message; 10,000 in messages of celery.instant_children_per_message
    world = World()
    arn = world.start(request([{"id": i} for i in range(items)], max_concurrency=0))
    world.run_control()
    batches = [b for segment in world.bus.segments for b in segment[0]]
    assert max(len(b.children) for b in batches) == largest
    sent = sorted(c.index for b in batches for c in b.children)
    assert sent == world.store.running_indexes(arn) == list(range(len(sent)))


def test_child_names_are_the_uuid5_of_the_map_run_id_and_index() -> None:
    import uuid

    from orchestrator.maprun.deps import CHILD_NAMESPACE, child_name

    for run_id in ("2eea8f24-c66e-41ee-914d-68330d7df1fb", "x"):
        for index in (0, 1, 99, 10_000_000):
            assert child_name(run_id, index) == str(
                uuid.uuid5(CHILD_NAMESPACE, f"{run_id}:{index}"))


def test_instant_children_fill_larger_messages_and_others_keep_their_ceiling() -> None:
    # MaxConcurrency 0 (10,000): Pass children go 512 to a message (10,000 // 16 allows it),
    # Task children keep celery.children_per_message and the spread over 64 messages.
    assert packing.per_message(10_000, 512, 10_000, instant=True) == 512
    assert packing.per_message(10_000, 128, 10_000, instant=False) == 128
    # The limit is spread over 16 messages of instant children: 1,000 -> 62 a message
    assert packing.per_message(1_000, 512, 10_000, instant=True) == 62
    assert packing.per_message(15, 512, 10_000, instant=True) == 1


def test_large_batches_spread_over_messages_of_at_most_65536_items() -> None:
    # 100 batches of 1,000 items of a Pass processor: packed up to 512 to a message they all
    # went to one worker process; at most 65 batches (65,000 items) to a message they spread.
    world = World()
    world.start(request([{"id": i} for i in range(100_000)], max_concurrency=0,
                        batcher={"MaxItemsPerBatch": 1000}))
    world.run_control()
    batches = [b for segment in world.bus.segments for b in segment[0]]
    assert [len(b.children) for b in batches] == [65, 35]
    # Batches of 50 items still fill one message (256 batches, 12,800 items).
    world = World()
    world.start(request([{"id": i} for i in range(12_800)], max_concurrency=0,
                        batcher={"MaxItemsPerBatch": 50}))
    world.run_control()
    batches = [b for segment in world.bus.segments for b in segment[0]]
    assert [len(b.children) for b in batches] == [256]

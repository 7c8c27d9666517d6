"""Pause, resume and admission (stepmap extensions) on the memory store, no I/O.

What a paused Map Run does and does not do, and how it meets stop, redrive, UpdateMapRun,
the tolerated-failure rule and the reconciler; admission's FIFO and round robin, a live limit,
and aborting a queued run (docs/extensions.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from maprun_world import EXECUTION, World, request

from orchestrator import messages
from orchestrator.executions.errors import ValidationException
from orchestrator.maprun.api import MapRunApi
from orchestrator.statuses import ChildStatus, MapRunStatus


def items(n: int, failing: tuple[int, ...] = ()) -> list[dict[str, object]]:
    return [{"id": i, "fail": i in failing} for i in range(n)]


class Sent:
    """Records what the Map Run API sends to the control plane, and forwards it to a world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, name: str, *, args: list[Any], queue: str) -> None:
        self.world.bus.send_control(name, *args)


def api_of(world: World) -> MapRunApi:
    return MapRunApi(world.store, world.settings, send_task=Sent(world), clock=world.clock)


def dispatched(world: World) -> list[int]:
    """Indexes of every child sent so far (and forget the segments)."""
    out = [c.index for batches, _, _ in world.bus.segments for b in batches for c in b.children]
    return out


def run_sent_children(world: World) -> None:
    """Run every segment sent so far, deliver the reports, close the segments."""
    while world.bus.segments:
        world.run_segment()


def execution(n: int, machine: str = "orders") -> str:
    return f"arn:aws:states:us-east-1:000000000000:execution:{machine}:run-{n}"


# -- pause and resume ----------------------------------------------------------------------
def test_a_paused_map_run_dispatches_nothing_and_running_children_finish_and_count() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(10), max_concurrency=3))
    world.run_control()
    assert world.store.running_indexes(arn) == [0, 1, 2]
    # When the run is paused with three children in flight
    api.pause_map_run(arn)
    batches, _, segment = world.bus.segments.popleft()
    for report in world.run_children(batches):
        world.deliver(report)
    world.coordinator.close_segment(arn, segment)
    world.clock.advance(60)
    world.coordinator.reconcile()
    world.run_control()
    # Then the three finished and were recorded, and nothing else went out
    assert not world.bus.segments
    assert world.store.child_statuses(arn, [0, 1, 2]) == [ChildStatus.SUCCEEDED] * 3
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.succeeded, item_counts.running, item_counts.pending) == (3, 0, 7)
    assert world.coordinator.dispatch(arn) == 0
    # When it is resumed, it carries on where it was and every item succeeds once
    api.resume_map_run(arn)
    assert world.bus.sent(messages.MAP_RUN_FEED) == [(arn,)]
    world.run_control()
    assert dispatched(world) == [3, 4, 5]
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(10)]


def test_describe_map_run_shows_paused_time_in_its_stepmap_member() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(4), max_concurrency=1))
    world.run_control()
    described = api.describe_map_run(arn)
    assert described["status"] == "RUNNING"
    assert described["stepmap"]["paused"] is False
    assert described["stepmap"]["pausedSeconds"] == 0
    paused_at = world.clock.now
    assert api.pause_map_run(arn)["paused"] is True
    world.clock.advance(30)
    ext = api.describe_map_run(arn)["stepmap"]
    assert (ext["paused"], ext["pausedDate"], ext["pausedSeconds"]) == (True, paused_at, 30)
    world.clock.advance(5)
    resumed = api.resume_map_run(arn)
    assert (resumed["paused"], resumed["pausedSeconds"]) == (False, 35)
    world.clock.advance(100)
    ext = api.describe_map_run(arn)["stepmap"]
    assert (ext["paused"], ext["pausedSeconds"], "pausedDate" in ext) == (False, 35, False)


def test_pausing_twice_keeps_the_first_pause_and_resuming_a_running_run_changes_nothing() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(2), max_concurrency=1))
    first = world.clock.now
    api.pause_map_run(arn)
    world.clock.advance(3)
    assert api.pause_map_run(arn)["pausedDate"] == first
    api.resume_map_run(arn)
    world.bus.control.clear()
    assert api.resume_map_run(arn)["paused"] is False
    assert world.bus.control == type(world.bus.control)()  # nothing sent for a no-op


def test_a_closed_map_run_cannot_be_paused_or_resumed() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(2)))
    world.drain()
    with pytest.raises(ValidationException, match="closing or closed"):
        api.pause_map_run(arn)
    with pytest.raises(ValidationException, match="SUCCEEDED; redrive"):
        api.resume_map_run(arn)


@pytest.mark.parametrize(("req", "status"), [
    # every child was sent before the pause and ended: nothing is left, the run closes
    (request(items(3), max_concurrency=5), MapRunStatus.SUCCEEDED),
    # children sent before the pause fail past the tolerated count: the run fails
    (request(items(6, failing=(0, 1)), max_concurrency=2, count=1), MapRunStatus.FAILED),
], ids=["nothing-left-succeeds", "threshold-fails"])
def test_a_paused_run_still_closes_on_the_outcomes_of_its_running_children(
        req: Any, status: MapRunStatus) -> None:
    world = World()
    api = api_of(world)
    arn = world.start(req)
    world.run_control()
    api.pause_map_run(arn)
    run_sent_children(world)
    world.run_control()
    ended = world.coordinator.result(arn)
    assert ended is not None and ended.status is status


def test_stopping_a_paused_run_aborts_it_and_a_redrive_runs_it_unpaused() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(4), max_concurrency=1))
    world.run_control()
    world.bus.segments.clear()  # the child message is lost with its worker
    api.pause_map_run(arn)
    world.clock.advance(10)
    world.coordinator.abort(EXECUTION)
    ended = world.coordinator.result(arn)
    assert ended is not None and ended.status is MapRunStatus.ABORTED
    world.clock.advance(50)
    ext = api.describe_map_run(arn)["stepmap"]
    assert (ext["paused"], ext["pausedSeconds"]) == (False, 10)  # counted until the stop
    world.coordinator.redrive(arn)
    run = world.store.get(arn)
    assert run is not None and run.paused_at is None and run.paused_seconds == 10
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED


def test_update_map_run_while_paused_takes_effect_at_resume() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(10), max_concurrency=1))
    world.run_control()
    api.pause_map_run(arn)
    api.update_map_run(arn, max_concurrency=4)
    world.run_control()
    run_sent_children(world)
    world.run_control()
    assert not world.bus.segments
    api.resume_map_run(arn)
    world.run_control()
    assert dispatched(world) == [1, 2, 3, 4]


def test_a_lapsed_permit_of_a_paused_run_goes_back_to_the_queue_and_waits() -> None:
    world = World()
    api = api_of(world)
    arn = world.start(request(items(3), max_concurrency=1))
    world.run_control()
    world.bus.segments.clear()  # lost with its worker
    api.pause_map_run(arn)
    world.clock.advance(world.settings.limits.parked_permit_seconds + 1)
    world.coordinator.reconcile()
    world.run_control()
    assert world.store.running_indexes(arn) == [] and world.store.queue_length(arn) == 3
    assert not world.bus.segments
    api.resume_map_run(arn)
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED


# -- admission -----------------------------------------------------------------------------
def test_map_runs_beyond_the_open_limit_wait_fifo_and_show_running_with_a_position() -> None:
    world = World(open_map_runs=2)
    api = api_of(world)
    arns = [world.coordinator.start(request(items(2)), execution(i)) for i in range(4)]
    # Only the first two are fed; the others are queued (AWS's status enum: RUNNING)
    assert world.bus.sent(messages.MAP_RUN_FEED) == [(arns[0],), (arns[1],)]
    described = [api.describe_map_run(a) for a in arns]
    assert [d["status"] for d in described] == ["RUNNING"] * 4
    assert [d["stepmap"]["queued"] for d in described] == [False, False, True, True]
    assert [d["stepmap"].get("queuePosition") for d in described] == [None, None, 1, 2]
    assert api.describe_admission()["openMapRuns"] == 2
    assert api.describe_admission()["backlogSize"] == 2
    # When the first finishes, the third is admitted (then the fourth), and all finish
    world.drain()
    for arn in arns:
        ended = world.coordinator.result(arn)
        assert ended is not None and ended.status is MapRunStatus.SUCCEEDED
    admitted = [world.store.get(a).admitted_at for a in arns]
    assert all(t is not None for t in admitted)
    assert api.describe_admission()["backlogSize"] == 0


def test_the_open_limit_is_never_exceeded_while_runs_finish_in_any_order() -> None:
    world = World(open_map_runs=3)
    arns = [world.coordinator.start(request(items(3), max_concurrency=1), execution(i))
            for i in range(10)]
    most = 0
    while world.bus.control or world.bus.segments:
        world.run_control()
        most = max(most, world.store.admission().open)
        if world.bus.segments:
            world.bus.segments.rotate(len(world.bus.segments) // 2)  # out of order
            world.run_segment()
        most = max(most, world.store.admission().open)
    assert most == 3
    assert all(world.coordinator.result(a) is not None for a in arns)


def test_admission_takes_state_machines_in_turn() -> None:
    world = World(open_map_runs=1)
    api = api_of(world)
    first = world.coordinator.start(request(items(1)), execution(0, "a"))
    a = [world.coordinator.start(request(items(1)), execution(i, "a")) for i in range(1, 4)]
    b = world.coordinator.start(request(items(1)), execution(9, "b"))
    assert world.store.status(first) is MapRunStatus.RUNNING
    backlog = api.describe_admission()["backlog"]
    assert [q["mapRunArn"] for q in backlog] == [a[0], b, a[1], a[2]]
    assert api.describe_map_run(b)["stepmap"]["queuePosition"] == 2


def test_raising_the_limit_live_admits_at_once_and_resetting_goes_back_to_the_setting() -> None:
    world = World(open_map_runs=1)
    api = api_of(world)
    arns = [world.coordinator.start(request(items(1)), execution(i)) for i in range(4)]
    world.bus.control.clear()
    state = api.update_admission(3)
    assert (state["openMapRunLimit"], state["limitSource"], state["openMapRuns"]) == (3, "live", 3)
    assert world.bus.sent(messages.MAP_RUN_FEED) == [(arns[1],), (arns[2],)]
    # Lowering it aborts nothing: the three stay open, nothing more is admitted
    state = api.update_admission(1)
    assert (state["openMapRuns"], state["backlogSize"]) == (3, 1)
    state = api.update_admission(None)
    assert (state["openMapRunLimit"], state["limitSource"]) == (1, "settings")
    state = api.update_admission(0)  # no limit
    assert (state["openMapRuns"], state["backlogSize"]) == (4, 0)
    with pytest.raises(ValidationException, match="from 0"):
        api.update_admission(-1)


def test_a_queued_run_can_be_aborted_and_is_never_fed() -> None:
    world = World(open_map_runs=1)
    api = api_of(world)
    running = world.coordinator.start(request(items(1)), execution(0))
    waiting = world.coordinator.start(request(items(1)), execution(1))
    world.coordinator.abort(execution(1))  # StopExecution of its parent
    ended = world.coordinator.result(waiting)
    assert ended is not None and ended.status is MapRunStatus.ABORTED
    assert api.describe_admission()["backlogSize"] == 0
    world.drain()
    assert world.store.status(running) is MapRunStatus.SUCCEEDED
    assert (waiting,) not in world.bus.sent(messages.MAP_RUN_FEED)
    assert world.store.counters(waiting)[0].total == 0


def test_a_queued_run_can_be_updated_and_paused_before_it_is_admitted() -> None:
    world = World(open_map_runs=1)
    api = api_of(world)
    world.coordinator.start(request(items(1)), execution(0))
    waiting = world.coordinator.start(request(items(6), max_concurrency=1), execution(1))
    api.update_map_run(waiting, max_concurrency=2)
    api.pause_map_run(waiting)
    world.drain()
    # Admitted once the first ended, fed, but paused: nothing dispatched
    run = world.store.get(waiting)
    assert run is not None and run.status is MapRunStatus.RUNNING and run.limit == 2
    assert world.store.counters(waiting)[0].succeeded == 0
    api.resume_map_run(waiting)
    world.drain()
    assert world.store.status(waiting) is MapRunStatus.SUCCEEDED

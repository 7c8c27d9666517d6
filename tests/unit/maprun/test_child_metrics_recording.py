"""Finished children are counted once for ``/metrics`` where their outcomes are recorded."""

from __future__ import annotations

from maprun_world import World, request

from orchestrator.store.child_metrics import BUCKETS, MemoryChildMetrics


def items(n: int, failing: tuple[int, ...] = ()) -> list[dict[str, object]]:
    return [{"id": i, "fail": i in failing} for i in range(n)]


def metrics(world: World) -> MemoryChildMetrics:
    found = world.coordinator.deps.child_metrics
    assert isinstance(found, MemoryChildMetrics)
    return found


def test_each_ended_child_is_counted_once_by_status_and_error_name() -> None:
    world = World()
    world.start(request(items(5, failing=(1, 3)), max_concurrency=2, count=5))
    world.drain()
    snap = metrics(world).snapshot()
    assert {key: sum(row) for key, row in snap.buckets.items()} == {
        ("orders", "SUCCEEDED"): 3, ("orders", "FAILED"): 2}
    assert all(len(row) == len(BUCKETS) + 1 for row in snap.buckets.values())
    assert snap.errors == {("orders", "App.Boom"): 2}
    assert set(snap.seconds) == {("orders", "SUCCEEDED"), ("orders", "FAILED")}


def test_a_redelivered_report_is_not_counted_again() -> None:
    world = World()
    world.start(request(items(3, failing=(0,)), max_concurrency=1, count=3))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    (report,) = world.run_children(batches)
    world.deliver(report)
    world.deliver(report)  # redelivered by the broker
    snap = metrics(world).snapshot()
    assert {key: sum(row) for key, row in snap.buckets.items()} == {("orders", "FAILED"): 1}
    assert snap.errors == {("orders", "App.Boom"): 1}

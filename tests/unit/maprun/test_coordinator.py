"""The Map Run coordinator on the memory store: feeding, dispatch, outcomes, tolerance, closing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pytest
from maprun_world import World, request

from orchestrator import messages
from orchestrator.asl import EngineOptions
from orchestrator.asl import errors as asl_errors
from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.maprun_base import ChildRecord, Segment


def items(n: int, failing: tuple[int, ...] = ()) -> list[dict[str, object]]:
    return [{"id": i, "fail": i in failing} for i in range(n)]


def test_feeding_turns_every_item_into_a_ready_child_and_marks_the_reader_done() -> None:
    world = World()
    arn = world.start(request(items(5)))
    # When the feed message runs
    name, args = world.bus.control.popleft()
    assert (name, args) == (messages.MAP_RUN_FEED, (arn,))
    world.coordinator.feed(arn)
    # Then five children wait, the reader is done and the counters add up
    run = world.store.get(arn)
    assert run is not None and run.reader_done and run.feed.next == 5
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.total, item_counts.running, item_counts.pending) == (5, 5, 0)


def test_a_batcher_weighs_each_child_by_its_item_count() -> None:
    world = World()
    arn = world.start(request(items(5), batcher={"MaxItemsPerBatch": 2}))
    world.drain()
    item_counts, exec_counts = world.store.counters(arn)
    assert (item_counts.total, exec_counts.total) == (5, 3)
    assert world.store.child_weights(arn, [0, 1, 2]) == [2, 2, 1]


def test_an_item_the_selector_cannot_build_fails_only_its_own_child() -> None:
    world = World()
    selector = {"value.$": "States.StringToJson($$.Map.Item.Value.text)"}
    values = [{"text": '{"id": 0}'}, {"text": "not json"}, {"text": '{"id": 2}'}]
    arn = world.start(request(values, item_selector=selector, count=1))
    world.coordinator.feed(arn)
    assert world.store.child_statuses(arn, [0, 1, 2]) == [None, ChildStatus.FAILED, None]


def test_dispatch_sends_no_more_children_than_the_limit() -> None:
    world = World()
    arn = world.start(request(items(10), max_concurrency=3))
    world.run_control()
    # Then one segment of three one-child messages is in flight, holding three permits
    assert len(world.bus.segments) == 1
    batches, _, _ = world.bus.segments[0]
    assert [len(b.children) for b in batches] == [1, 1, 1]
    assert world.store.running_indexes(arn) == [0, 1, 2]
    assert world.coordinator.dispatch(arn) == 0


def test_a_finished_child_refills_its_slot_without_waiting_for_its_segment() -> None:
    world = World()
    arn = world.start(request(items(10), max_concurrency=3))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    # When only the first message reports
    (report,) = world.run_children(batches[:1])
    world.deliver(report)
    # Then child 3 is dispatched at once, in a new segment
    assert world.store.running_indexes(arn) == [1, 2, 3]
    assert [c.index for b in world.bus.segments[-1][0] for c in b.children] == [3]


def test_a_map_run_succeeds_with_every_output_in_order_and_resumes_its_parent() -> None:
    world = World()
    arn = world.start(request(items(7), max_concurrency=2))
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(7)]
    run = world.store.get(arn)
    assert run is not None and run.stop_date == world.clock.now
    assert world.store.open_runs() == []


def claimed_then_lapsed(world: World, max_concurrency: int, count: int = 2,
                        ) -> tuple[str, list[messages.ChildBatch]]:
    """A Map Run whose first message a worker claimed, then stalled past its lease."""
    arn = world.start(request(items(count), max_concurrency=max_concurrency))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    now_ms = int(world.clock() * 1000)
    world.runner.ledger.claim(batches[0], [batches[0].children[0].holder], "stalled", now_ms,
                              now_ms + batches[0].lease_ms)
    world.clock.advance(world.settings.limits.lease_seconds + 1)
    world.coordinator.reconcile()
    return arn, batches


def test_a_duplicated_report_counts_once() -> None:
    world = World()
    arn = world.start(request(items(3), max_concurrency=1))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    (report,) = world.run_children(batches)
    world.deliver(report)
    world.deliver(report)  # redelivered by the broker
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.succeeded, item_counts.running) == (1, 1)
    assert item_counts.pending + item_counts.running + item_counts.succeeded == item_counts.total


def test_a_report_that_arrives_after_its_permit_expired_is_settled_from_the_outbox() -> None:
    world = World()
    arn = world.start(request(items(2), max_concurrency=1))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    # Given the child ran (and wrote its outbox entry) but its report never came
    world.run_children(batches)
    # When its permit expires and the reconciler dispatches
    world.clock.advance(world.settings.limits.lease_seconds + 1)
    world.coordinator.reconcile()
    # Then the child is recorded from the outbox, not run again, and the next one goes out
    assert world.store.child_statuses(arn, [0]) == [ChildStatus.SUCCEEDED]
    assert [c.index for b in world.bus.segments[-1][0] for c in b.children] == [1]
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.succeeded, item_counts.running, item_counts.total) == (1, 1, 2)


def test_a_child_whose_worker_died_is_dispatched_again_after_its_lease() -> None:
    world = World()
    arn, _ = claimed_then_lapsed(world, 1)  # lost with its worker, which had claimed it
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED


def waited_in_queue(world: World, seconds: float) -> tuple[str, list[messages.ChildBatch]]:
    """A Map Run whose first message waited ``seconds`` in the queue, no worker taking it."""
    arn = world.start(request(items(2), max_concurrency=1))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    world.clock.advance(seconds)
    world.coordinator.reconcile()
    return arn, batches


def test_a_queued_permit_does_not_expire_while_its_message_waits() -> None:
    world = World()
    arn, batches = waited_in_queue(world, 5 * world.settings.limits.lease_seconds)
    # Its child is not dispatched again, and runs once when a worker takes the message
    assert not world.bus.segments
    (report,) = world.run_children(batches)
    assert [o.index for o in report.outcomes] == [0]
    world.deliver(report)
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED


def test_a_message_lost_before_any_worker_took_it_comes_back_after_the_parked_expiry() -> None:
    world = World()
    arn, _ = waited_in_queue(world, world.settings.limits.parked_permit_seconds + 1)
    ended = world.ended(arn)  # the lost message's child was dispatched again
    assert ended.status is MapRunStatus.SUCCEEDED


def test_a_message_whose_permit_was_reclaimed_does_not_run_its_child() -> None:
    # Given a claimed child whose lease lapsed (its worker stalled) and was dispatched again
    world = World()
    arn, first = claimed_then_lapsed(world, 1, count=1)
    second, _, _ = world.bus.segments.popleft()
    # When the first message is delivered again, then the second
    (stale,) = world.run_children(first)
    (fresh,) = world.run_children(second)
    # Then only the second dispatch runs the child, and the counts add up at every step
    assert stale.outcomes == [] and [o.index for o in fresh.outcomes] == [0]
    world.deliver(fresh)
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.succeeded, item_counts.running, item_counts.total) == (1, 0, 1)


def test_a_message_redelivered_while_its_first_delivery_runs_does_not_run_the_child() -> None:
    # The broker redelivers a message past its visibility timeout while the first still runs.
    world = World()
    world.start(request(items(1), max_concurrency=1))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    holder = batches[0].children[0].holder
    now_ms = int(world.clock() * 1000)
    assert world.runner.ledger.claim(batches[0], [holder], "first", now_ms,
                                     now_ms + batches[0].lease_ms) == [1]
    (second,) = world.run_children(batches)
    assert second.outcomes == []


def test_an_extra_dispatch_of_a_recorded_child_stops_counting_when_its_permit_lapses() -> None:
    # DescribeMapRun showed ``running: 11`` on a SUCCEEDED run: extra permits of recorded
    # children were dropped at reclaim without leaving the dispatched count.
    world = World()
    arn, first = claimed_then_lapsed(world, 2, count=1)  # reclaimed and dispatched again
    second, _, _ = world.bus.segments.popleft()
    # The slow first dispatch ends after all and reports
    slow = world.runner._run_one(first[0], first[0].children[0], world.runner.machine(first[0]),
                                 EngineOptions(history=True))
    world.deliver(messages.ChildrenReport(map_run_arn=arn, segment="s", outcomes=[slow]))
    # The second dispatch's message is lost; its permit lapses
    del second
    world.clock.advance(world.settings.limits.parked_permit_seconds + 1)
    world.coordinator.reconcile()
    item_counts, execs = world.store.counters(arn)
    assert (item_counts.succeeded, item_counts.running, execs.running) == (1, 0, 0)


def test_a_failure_beyond_the_tolerated_count_fails_the_run_and_aborts_the_rest() -> None:
    world = World()
    arn = world.start(request(items(10, failing=(0, 1)), max_concurrency=4, count=1))
    world.drain()
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.FAILED
    assert run.error == asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD
    item_counts, _ = world.store.counters(arn)
    assert item_counts.failed == 2 and item_counts.succeeded < 8
    assert item_counts.pending + item_counts.running + item_counts.terminal == 10
    assert item_counts.running == 0


def test_tolerated_failures_keep_the_run_going() -> None:
    world = World()
    arn = world.start(request(items(6, failing=(2,)), max_concurrency=2, count=1))
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result[2] == {"Error": "App.Boom", "Cause": "asked to fail"}


class Killed(BaseException):
    """The control process dies (what a SIGKILL looks like from inside the finalizer)."""


def while_finalizing(world: World, action: Callable[[], None]) -> None:
    """Run ``action`` once, in the middle of the finalizer's reading of the results."""
    original = world.store.child_records

    def hooked(arn: str, indexes: Sequence[int]) -> list[ChildRecord | None]:
        world.store.child_records = original  # type: ignore[method-assign]
        action()
        return original(arn, indexes)

    world.store.child_records = hooked  # type: ignore[method-assign]


def test_a_run_failing_while_results_still_arrive_records_them_without_error() -> None:
    # Regression (issue 8): the finalizer marked the run CLOSING without saying why, and a
    # report arriving while it wrote the results raised KeyError('closing').
    world = World()
    arn = world.start(request(items(6, failing=(0, 1)), max_concurrency=6, count=0))
    world.run_control()
    batches, _, segment = world.bus.segments.popleft()
    reports = world.run_children(batches)

    def late_reports() -> None:
        for report in reports[1:]:
            world.deliver(report)
        world.coordinator.close_segment(arn, segment)

    while_finalizing(world, late_reports)
    # When the first failure fails the run and the other reports arrive during its closing
    world.deliver(reports[0])
    # Then the run is FAILED, the late outcomes are ignored and the counters add up
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.FAILED
    assert run.error == asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.failed, item_counts.aborted) == (1, 5)
    assert item_counts.pending + item_counts.running + item_counts.terminal == 6


def test_a_finalizer_killed_while_closing_is_taken_over_once_its_lease_lapses() -> None:
    # Regression (issue 8): a control worker killed while closing a Map Run left it RUNNING
    # for the finalize lock's hour; the lease now lapses in seconds and is taken over.
    world = World(finalize_lease_seconds=5)
    arn = world.start(request(items(4, failing=(0,)), max_concurrency=4))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    reports = world.run_children(batches)

    def die() -> None:
        raise Killed

    while_finalizing(world, die)
    # Given the process closing the run dies in the middle
    with pytest.raises(Killed):
        world.deliver(reports[0])
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.CLOSING
    world.coordinator.reconcile()  # the lease is still held: nothing happens yet
    assert world.store.status(arn) is MapRunStatus.CLOSING
    # When the lease lapses and the reconciler passes again
    world.clock.advance(6)
    world.coordinator.reconcile()
    # Then the run is closed FAILED, once, and the parent is told once
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.FAILED
    assert run.error == asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD
    assert world.bus.sent(messages.ADVANCE_EXECUTION) == [(run.execution_arn,)]


def test_an_express_run_that_fails_waits_for_its_running_children() -> None:
    world = World()
    arn = world.start(request(items(3, failing=(0,)), max_concurrency=3,
                              execution_type="EXPRESS"))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    reports = world.run_children(batches)
    world.deliver(reports[0])
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.CLOSING
    for report in reports[1:]:
        world.deliver(report)
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.FAILED
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.failed, item_counts.succeeded, item_counts.aborted) == (1, 2, 0)


def test_abort_closes_the_open_runs_of_an_execution() -> None:
    world = World()
    arn = world.start(request(items(5), max_concurrency=2))
    world.run_control()
    world.coordinator.abort(world.store.get(arn).execution_arn)  # type: ignore[union-attr]
    run = world.store.get(arn)
    assert run is not None and run.status is MapRunStatus.ABORTED
    item_counts, _ = world.store.counters(arn)
    assert (item_counts.aborted, item_counts.running, item_counts.pending) == (2, 0, 3)


def test_redrive_runs_only_the_unsuccessful_children_again() -> None:
    world = World()
    arn = world.start(request(items(4, failing=(1,)), max_concurrency=1))
    world.drain()
    assert world.store.status(arn) is MapRunStatus.FAILED
    ran_before = {c.index for b in world.bus.segments for c in b[0].children}
    # When the failing child's input is fixed (and its journal dropped, so that it starts over
    # instead of resuming at the failed state) and the run is redriven
    world.store._runs[arn].inputs[1] = json.dumps({"id": 1, "fail": False})
    world.store._runs[arn].journals.clear()
    assert world.coordinator.redrive(arn) == 1
    dispatched: list[int] = []
    while world.bus.control or world.bus.segments:
        world.run_control()
        if world.bus.segments:
            dispatched += [c.index for b in world.bus.segments[0][0] for c in b.children]
            world.run_segment()
    # Then child 0, which succeeded, never runs again
    assert ran_before == set() and 0 not in dispatched and dispatched[0] == 1
    ended = world.coordinator.result(arn)
    assert ended is not None and ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(4)]
    run = world.store.get(arn)
    assert run is not None and run.redrive_count == 1


def test_update_applies_a_new_limit_to_the_next_dispatch() -> None:
    world = World()
    arn = world.start(request(items(6), max_concurrency=1))
    world.run_control()
    world.store.update_limits(arn, max_concurrency=3, limit=3)
    assert world.coordinator.dispatch(arn) == 2
    assert world.store.running_indexes(arn) == [0, 1, 2]


def test_the_reconciler_closes_overdue_segments_whose_children_are_accounted_for() -> None:
    world = World()
    arn = world.start(request(items(6), max_concurrency=6))
    store = world.store
    old = world.clock.now - 600
    store.add_segment(arn, "done", Segment(old, [0, 1]))
    store.add_segment(arn, "reclaimed", Segment(old, [2]))
    store.add_segment(arn, "running", Segment(old, [3]))
    store.add_segment(arn, "recent", Segment(world.clock.now, [4]))
    run = store._runs[arn]
    run.status.update({0: ChildStatus.SUCCEEDED, 1: ChildStatus.FAILED})
    run.permits["3:tag"] = int(world.clock.now * 1000) + 60_000
    from orchestrator.maprun.segments import close_overdue_segments

    assert close_overdue_segments(world.coordinator.deps, arn, older_than=120) == 2
    assert set(store.segments(arn)) == {"running", "recent"}


def test_the_feeder_stops_at_the_window_and_goes_on_from_its_cursor() -> None:
    world = World()
    arn = world.start(request(items(1200), max_concurrency=250))
    world.bus.control.clear()
    world.coordinator.feed(arn)
    # Then only a window's worth of children (1,000 at this limit) was read
    run = world.store.get(arn)
    assert run is not None and run.window == 1000
    assert (run.feed.next, run.reader_done) == (1000, False)
    # When the children run, the window drains and the feeder reads on to the end
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(1200)]


def test_a_child_whose_worker_dies_every_time_fails_with_states_runtime() -> None:
    # Regression (issue 9): a message whose worker dies every time was started again forever.
    world = World()
    arn = world.start(request(items(1), max_concurrency=1))
    world.run_control()
    for attempt in range(1, 6):
        batches, _, _ = world.bus.segments.popleft()
        now_ms = int(world.clock() * 1000)
        assert world.runner.ledger.claim(batches[0], [batches[0].children[0].holder],
                                         f"died-{attempt}", now_ms,
                                         now_ms + batches[0].lease_ms) == [attempt]
        world.clock.advance(world.settings.limits.lease_seconds + 1)
        world.coordinator.reconcile()
    batches, _, _ = world.bus.segments.popleft()
    (report,) = world.run_children(batches)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.error) == (ChildStatus.FAILED, "States.Runtime")
    assert "started 5 times" in (outcome.cause or "")
    world.deliver(report)
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.FAILED


def test_a_child_whose_message_the_broker_lost_is_dispatched_again() -> None:
    # Regression: a worker killed between popping a message and noting it as unacked loses
    # it; its children kept their parked permits for an hour and the Map Run hung (the
    # killed-worker e2e test, under load). With the queue empty, parked permits get a lease.
    world = World()
    arn = world.start(request(items(2), max_concurrency=2))
    world.run_control()
    world.bus.segments.clear()  # the message is lost: no worker ever takes it
    world.bus.waiting = 0
    world.clock.advance(2 * world.settings.limits.lease_seconds + 1)
    world.coordinator.reconcile()  # unparked: one lease
    assert not world.bus.segments
    world.clock.advance(world.settings.limits.lease_seconds + 1)
    world.coordinator.reconcile()  # lapsed: reclaimed and dispatched again
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(2)]


def test_parked_permits_stay_parked_while_messages_wait_in_the_queue() -> None:
    world = World()
    arn = world.start(request(items(2), max_concurrency=2))
    world.run_control()
    (batches, _, _) = world.bus.segments.popleft()
    for waiting in (5, None):  # a backlog; a broker that does not answer
        world.bus.waiting = waiting
        world.clock.advance(world.settings.limits.lease_seconds * 3)
        world.coordinator.reconcile()
        assert not world.bus.segments  # nothing dispatched again
    # and the queued message still runs its children when a worker takes it
    for report in world.run_children(batches):
        world.deliver(report)
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED


def test_a_started_map_run_is_fed_by_its_own_process_and_its_feed_message_changes_nothing() -> None:
    world = World()
    arn = world.start(request(items(5), max_concurrency=0))
    # When the process that started it feeds it at once (no message hop to the first children)
    world.coordinator.feed_started()
    run = world.store.get(arn)
    assert run is not None and run.reader_done
    assert world.store.running_indexes(arn) == [0, 1, 2, 3, 4]
    assert len(world.bus.segments) == 1
    # Then the feed message the start sent still comes, and only checks progress
    assert world.bus.control.popleft() == (messages.MAP_RUN_FEED, (arn,))
    world.coordinator.feed(arn)
    item_counts, exec_counts = world.store.counters(arn)
    assert (item_counts.total, exec_counts.total, exec_counts.running) == (5, 5, 5)
    assert len(world.bus.segments) == 1
    world.coordinator.feed_started()  # nothing left to feed
    assert len(world.bus.segments) == 1
    world.drain()
    assert world.store.get(arn).status is MapRunStatus.SUCCEEDED  # type: ignore[union-attr]


def _sent_behind_a_backlog() -> tuple[World, str, list[messages.ChildBatch]]:
    """A Map Run's one message, sent; the children queue holds other messages before it."""
    world = World()
    arn = world.start(request(items(2), max_concurrency=2))
    world.run_control()
    (batches, _, _) = world.bus.segments.popleft()
    world.bus.waiting = 7
    return world, arn, batches


def test_a_message_a_worker_took_but_never_started_gets_its_children_dispatched_again() -> None:
    # Regression (chaos long form): a children worker killed after the broker moved a message
    # to its unacked set and before task_received started the leases left the child's permit
    # parked for an hour, the execution RUNNING. The queue is not empty (a backlog), so the
    # empty-queue rule does not apply; the unacked set names the message.
    world, arn, batches = _sent_behind_a_backlog()
    # taken by a worker that died: in the unacked set
    world.bus.reserved = [b.model_dump_json() for b in batches]
    world.clock.advance(2 * world.settings.limits.lease_seconds + 1)
    world.coordinator.reconcile()  # unparked: one lease
    assert not world.bus.segments
    world.clock.advance(world.settings.limits.lease_seconds + 1)
    world.bus.reserved = []  # (the broker would hand it out again only after an hour)
    world.coordinator.reconcile()  # lapsed: reclaimed and dispatched again
    assert world.bus.segments
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(2)]
    # and the dead worker's message, handed out again by the broker, runs nothing twice
    late = [o for report in world.run_children(batches) for o in report.outcomes]
    assert late and all(o.skipped for o in late)


def test_a_message_waiting_in_a_long_queue_keeps_its_parked_permits() -> None:
    world, arn, batches = _sent_behind_a_backlog()
    world.bus.reserved = []  # still queued: not in the unacked set
    for _ in range(3):
        world.clock.advance(world.settings.limits.lease_seconds * 3)
        world.coordinator.reconcile()
    assert not world.bus.segments
    assert sorted(world.store.running_indexes(arn)) == [0, 1]
    for report in world.run_children(batches):
        world.deliver(report)
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED

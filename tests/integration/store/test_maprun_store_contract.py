"""One contract, two Map Run stores: the Redis store (real server) and the memory store.

The permit rules (grant under the limit, reclaim expired leases, stale holders, the
tolerated-failure stop), the first-report-wins transition, the feeder's chunks, redrive and
leases behave alike in both; and the workers' ChildLedger (workers/ledger.py on Redis, the
memory store's ledger) reads and writes the same things through either.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest
import redis

from orchestrator.asl import DistributedMapRequest
from orchestrator.messages import ChildBatch, ChildLedger, ChildOutcome, ChildWork
from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_base import (
    ChildRecord,
    FailedChild,
    FeedChunk,
    Lease,
    MapRunStore,
    ReadyChild,
    RecordedOutcome,
    Segment,
)
from orchestrator.store.maprun_memory import MemoryMapRunStore
from orchestrator.store.maprun_record import Closing, FeedState, MapRun
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.result_stream import CategoryStream, ResultStream
from workers.ledger import RedisLedger

ARN = "arn:aws:states:us-east-1:000000000000:mapRun:sm/L:run-1"
EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:sm:e"
N = 10


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def request() -> DistributedMapRequest:
    return DistributedMapRequest(
        state_name="Map", label=None, map_state_raw={}, effective_input={}, context={},
        max_concurrency=3, tolerated_failure_count=None, tolerated_failure_percentage=None,
        reader=None, items=[], item_selector=None, batcher=None, result_writer=None,
        processor={"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        execution_type="STANDARD")


def new_run(arn: str = ARN, limit: int = 3) -> MapRun:
    return MapRun(
        arn=arn, execution_arn=EXECUTION, map_run_id="run-1", label="L", state_name="Map",
        labelled_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm/L",
        execution_prefix="arn:aws:states:us-east-1:000000000000:execution:sm/L:",
        processor_key="proc:x", processor_hash="x", execution_type="STANDARD",
        request_json=MapRun.encode_request(request()), max_concurrency=limit, limit=limit, window=1000,
        start_date=time.time())


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[MapRunStore]:
    if request.param == "memory":
        yield MemoryMapRunStore()
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisMapRunStore(client, Keys("t"))
    client.close()


@pytest.fixture
def run(store: MapRunStore) -> MapRunStore:
    store.create(new_run(), '{"StartAt": "P"}')
    store.append_children(ARN, FeedChunk(
        ready=[ReadyChild(i, f"c{i}", json.dumps({"i": i})) for i in range(N)], failed=[],
        feed=FeedState(cursor={"at": N}, next=N)))
    return store


def grant(store: MapRunStore, now_ms: int | None = None, lease_ms: int = 60_000,
          tag: str = "a") -> list[tuple[int, str]]:
    grants = store.grant(ARN, now_ms=now_ms if now_ms is not None else int(time.time() * 1000),
                         lease_ms=lease_ms, max_children=100, tag=tag, max_bytes=0)
    return [(g.index, g.holder) for g in grants.granted]


def complete(store: MapRunStore, outcomes: list[tuple[int, str, str]]) -> list[int]:
    return store.record_outcomes(ARN, [
        RecordedOutcome(idx, holder, ChildRecord(f"c{idx}", ChildStatus(st), 1.0, 2.0))
        for idx, holder, st in outcomes])


def test_a_created_run_reads_back_as_it_was_written(store: MapRunStore) -> None:
    run = new_run()
    store.create(run, "{}")
    assert store.get(ARN) == run
    assert store.status(ARN) is MapRunStatus.RUNNING
    assert store.list_for_execution(EXECUTION) == [ARN]
    assert store.open_runs() == [ARN]
    assert store.processor("proc:x") == "{}" or store.processor(run.processor_key) == "{}"


def test_a_feed_chunk_adds_children_and_the_reader_state_at_once(run: MapRunStore) -> None:
    run.append_children(ARN, FeedChunk(
        ready=[ReadyChild(N, "cN", '{"Items":[1,2]}', items=2)],
        failed=[FailedChild(N + 1, ChildRecord("bad", ChildStatus.FAILED, 1.0, 1.0,
                                               error="States.Runtime", cause="x"))],
        feed=FeedState(cursor="end", next=N + 2, carried=["3"]), reader_done=True))
    rec = run.get(ARN)
    assert rec is not None and rec.reader_done and rec.feed == FeedState("end", N + 2, ["3"])
    items, execs = run.counters(ARN)
    assert (items.total, execs.total, items.failed) == (N + 3, N + 2, 1)
    assert run.queue_length(ARN) == N + 1
    assert run.child_weights(ARN, [N, N + 1]) == [2, 1]
    assert run.child_location("cN") == (ARN, N)
    assert run.child_statuses(ARN, [N + 1, 0]) == [ChildStatus.FAILED, None]


def test_grant_gives_no_more_permits_than_the_limit(run: MapRunStore) -> None:
    granted = grant(run)
    assert [idx for idx, _ in granted] == [0, 1, 2]
    assert grant(run, tag="b") == []
    items, _ = run.counters(ARN)
    assert (items.running, items.pending, items.total) == (3, 7, 10)
    assert run.running_indexes(ARN) == [0, 1, 2]


def test_a_finished_child_frees_its_slot_for_the_next(run: MapRunStore) -> None:
    granted = grant(run)
    assert complete(run, [(granted[0][0], granted[0][1], "SUCCEEDED")]) == [0]
    assert [idx for idx, _ in grant(run, tag="b")] == [3]


def test_a_duplicated_report_counts_once(run: MapRunStore) -> None:
    idx, holder = grant(run)[0]
    assert complete(run, [(idx, holder, "SUCCEEDED")]) == [idx]
    assert complete(run, [(idx, holder, "FAILED")]) == []
    items, _ = run.counters(ARN)
    assert (items.succeeded, items.failed, items.running) == (1, 0, 2)
    assert items.pending + items.running + items.succeeded == items.total
    record = run.child_records(ARN, [idx])[0]
    assert record is not None and record.status is ChildStatus.SUCCEEDED


def test_one_report_of_many_outcomes_counts_as_they_would_one_by_one(run: MapRunStore) -> None:
    # The Redis script sums its counters per call and writes them once: a report mixing
    # statuses, a duplicate and a late child (its permit reclaimed and granted again) must
    # leave the counters exactly as recording the outcomes one at a time does.
    now = int(time.time() * 1000)
    (i0, h0), (i1, h1), (i2, h2) = grant(run, now_ms=now, lease_ms=1_000)
    again = grant(run, now_ms=now + 5_000, tag="b")  # all three reclaimed and granted again
    assert [idx for idx, _ in again] == [i0, i1, i2]
    fresh = complete(run, [(i0, h0, "SUCCEEDED"), (i1, h1, "FAILED"), (i0, h0, "FAILED"),
                           (i2, again[2][1], "SUCCEEDED")])
    assert fresh == [i0, i1, i2]
    # The second delivery's reports of the recorded children count nothing twice
    assert complete(run, [(i0, again[0][1], "SUCCEEDED"), (i1, again[1][1], "SUCCEEDED")]) == []
    items, execs = run.counters(ARN)
    for counters in (items, execs):
        assert (counters.succeeded, counters.failed, counters.results_written) == (2, 1, 2)
        assert (counters.running, counters.pending, counters.total) == (0, N - 3, N)
        assert counters.dispatched == 3
    assert run.running_indexes(ARN) == []


def _adds_up(store: MapRunStore) -> tuple[int, int]:
    """(running, dispatched) of the items, after checking DescribeMapRun's sum."""
    items, execs = store.counters(ARN)
    for counters in (items, execs):
        assert counters.pending + counters.running + counters.terminal == counters.total, counters
        assert counters.dispatched >= counters.terminal, counters
    return items.running, items.dispatched


@pytest.mark.parametrize("second_ends_by", ["report", "expiry", "abort"])
def test_a_late_report_of_a_child_dispatched_again_counts_it_dispatched_once(
    run: MapRunStore, second_ends_by: str,
) -> None:
    """Regression (chaos tier): a child's permit expired, it was granted again, then its first
    run's late report came: the record counted it dispatched a second time (the second permit
    already did), so DescribeMapRun showed running + succeeded one over the total until the
    second run ended (15 snapshots of the chaos test). Now the second permit counts it, and its
    end takes nothing back, however it ends."""
    now = int(time.time() * 1000)
    (i0, h1), *_ = grant(run, now_ms=now, lease_ms=1_000)
    again = grant(run, now_ms=now + 5_000, lease_ms=1_000, tag="b")  # reclaimed, granted again
    h2 = next(holder for idx, holder in again if idx == i0)
    assert _adds_up(run) == (3, 3)
    assert complete(run, [(i0, h1, "SUCCEEDED")]) == [i0]  # the first run's late report
    assert _adds_up(run) == (2, 3)
    if second_ends_by == "report":
        assert complete(run, [(i0, h2, "SUCCEEDED")]) == []
    elif second_ends_by == "expiry":
        grant(run, now_ms=now + 10_000, tag="c")  # every permit expired: reclaimed
    else:
        run.abort_running(ARN)
    running, dispatched = _adds_up(run)
    if second_ends_by == "report":
        assert (running, dispatched) == (2, 3)
    else:  # the two other children's permits ended too (requeued, or aborted)
        items, _ = run.counters(ARN)
        assert dispatched == items.terminal + running
        assert running == (3 if second_ends_by == "expiry" else 0)


def test_expired_leases_are_reclaimed_and_their_children_requeued(run: MapRunStore) -> None:
    now = int(time.time() * 1000)
    assert len(grant(run, now_ms=now, lease_ms=1_000)) == 3
    again = grant(run, now_ms=now + 5_000, tag="b")
    assert [idx for idx, _ in again] == [0, 1, 2]
    assert all(holder.endswith(":b") for _, holder in again)
    items, _ = run.counters(ARN)
    assert items.running == 3


def test_an_expired_permit_whose_child_is_in_the_outbox_is_settled_not_rerun(
    run: MapRunStore,
) -> None:
    now = int(time.time() * 1000)
    (idx, holder), *_ = grant(run, now_ms=now, lease_ms=1_000)
    outcome = ChildOutcome(index=idx, name=f"c{idx}", holder=holder, status="SUCCEEDED",
                           start=1.0, stop=2.0, output="1")
    ledger_of(run).report_early(batch_of(run, [(idx, holder)]), [outcome])  # the worker's side
    grants = run.grant(ARN, now_ms=now + 5_000, lease_ms=60_000, max_children=100, tag="b",
                       max_bytes=0)
    assert grants.late == [(idx, holder)]
    assert idx not in [g.index for g in grants.granted]
    assert run.late_outcomes(ARN, [idx]) == [outcome]
    complete(run, [(idx, holder, "SUCCEEDED")])
    assert run.late_outcomes(ARN, [idx]) == [None]


def test_a_stale_holder_cannot_release_another_holders_permit(run: MapRunStore) -> None:
    now = int(time.time() * 1000)
    stale = grant(run, now_ms=now, lease_ms=1_000)
    fresh = grant(run, now_ms=now + 5_000, tag="b")
    assert complete(run, [(stale[0][0], stale[0][1], "SUCCEEDED")]) == [0]
    assert run.running_indexes(ARN) == [idx for idx, _ in fresh]
    assert complete(run, [(fresh[0][0], fresh[0][1], "SUCCEEDED")]) == []
    items, _ = run.counters(ARN)
    assert (items.succeeded, items.running) == (1, 2)
    assert items.pending + items.running + items.succeeded == items.total


def test_renewal_extends_live_permits_only(run: MapRunStore) -> None:
    now = int(time.time() * 1000)
    granted = grant(run, now_ms=now, lease_ms=1_000)
    assert run.renew_permits(ARN, [h for _, h in granted] + ["9:gone"], now + 60_000) == 3
    assert grant(run, now_ms=now + 5_000, tag="b") == []  # nothing expired, nothing free
    assert run.running_indexes(ARN) == [0, 1, 2]


def test_a_lowered_limit_applies_to_the_next_grant(run: MapRunStore) -> None:
    granted = grant(run)
    run.update_limits(ARN, max_concurrency=1, limit=1)
    for idx, holder in granted[:2]:
        complete(run, [(idx, holder, "SUCCEEDED")])
    assert grant(run, tag="b") == []
    complete(run, [(granted[2][0], granted[2][1], "SUCCEEDED")])
    assert [idx for idx, _ in grant(run, tag="c")] == [3]


def test_abort_marks_running_children_aborted(run: MapRunStore) -> None:
    grant(run)
    assert sorted(run.abort_running(ARN)) == [0, 1, 2]
    items, _ = run.counters(ARN)
    assert (items.aborted, items.running, items.pending) == (3, 0, 7)


def _fail_next(store: MapRunStore, tag: str) -> None:
    idx, holder = grant(store, tag=tag)[0]
    complete(store, [(idx, holder, "FAILED")])


def test_no_permit_once_a_failure_exceeds_the_default_threshold(run: MapRunStore) -> None:
    idx, holder = grant(run)[0]
    complete(run, [(idx, holder, "FAILED")])
    assert grant(run, tag="b") == []


@pytest.mark.parametrize("timed_out", [False, True])
def test_no_permit_once_failures_exceed_the_tolerated_count(run: MapRunStore,
                                                            timed_out: bool) -> None:
    run.update_limits(ARN, tolerated_failure_count=1, limit=1)
    _fail_next(run, "a")
    idx, holder = grant(run, tag="b")[0]
    complete(run, [(idx, holder, "TIMED_OUT" if timed_out else "FAILED")])
    assert grant(run, tag="c") == []
    run.update_limits(ARN, tolerated_failure_count=2)
    assert len(grant(run, tag="d")) == 1


def test_the_percentage_stops_grants_only_once_the_total_is_known(run: MapRunStore) -> None:
    run.update_limits(ARN, tolerated_failure_percentage=20.0, limit=1)
    for tag in "abc":
        _fail_next(run, tag)
    (idx, holder), = grant(run, tag="d")
    complete(run, [(idx, holder, "SUCCEEDED")])
    run.append_children(ARN, FeedChunk(ready=[], failed=[], feed=FeedState(next=N),
                                       reader_done=True))
    assert grant(run, tag="e") == []


def test_no_permit_once_the_run_is_closing(run: MapRunStore) -> None:
    run.begin_closing(ARN, Closing(MapRunStatus.FAILED, "E", "C"))
    assert grant(run) == []
    rec = run.get(ARN)
    assert rec is not None and rec.closing == Closing(MapRunStatus.FAILED, "E", "C")


def test_finish_closes_the_run_and_redrive_reopens_its_unsuccessful_children(
    run: MapRunStore,
) -> None:
    granted = grant(run)
    complete(run, [(granted[0][0], granted[0][1], "SUCCEEDED"),
                   (granted[1][0], granted[1][1], "FAILED")])
    run.abort_running(ARN)
    run.add_segment(ARN, "s1", Segment(1.0, [0, 1, 2]))
    run.finish(ARN, MapRunStatus.FAILED, stop_date=5.0, error="E", cause="C")
    rec = run.get(ARN)
    assert rec is not None and (rec.status, rec.error, rec.stop_date) == (MapRunStatus.FAILED, "E", 5.0)
    assert run.open_runs() == [] and run.segments(ARN) == {}

    assert run.redrive(ARN, now=6.0) == 1
    rec = run.get(ARN)
    assert rec is not None
    assert (rec.status, rec.redrive_count, rec.error, rec.redrive_date) == (
        MapRunStatus.RUNNING, 1, None, 6.0)
    items, _ = run.counters(ARN)
    assert (items.succeeded, items.failed, items.aborted, items.running) == (1, 0, 0, 0)
    assert run.queue_length(ARN) == N - 1
    assert run.open_runs() == [ARN]


def test_the_result_stream_is_kept_whole_and_dropped_by_a_redrive(run: MapRunStore) -> None:
    assert run.result_stream(ARN) is None
    stream = ResultStream(frontier=7, ended_at_pass=7, every=3, categories={
        "SUCCEEDED": CategoryStream(
            files=({"Key": "out/r/SUCCEEDED_0.json", "Size": 12},), upload_id="u-1",
            parts=({"ETag": '"e1"', "PartNumber": 1},), uploaded=5_242_880, mark=(4, 2),
            open=True, pending=99)})
    run.save_result_stream(ARN, stream)
    assert run.result_stream(ARN) == stream
    failed = dataclasses.replace(stream, failed="S3 said no", categories={})
    run.save_result_stream(ARN, failed)
    assert run.result_stream(ARN) == failed
    run.finish(ARN, MapRunStatus.FAILED, stop_date=5.0, error="E", cause="C")
    assert run.result_stream(ARN) == failed  # kept: a late pass finds the run closed
    run.redrive(ARN, now=6.0)
    assert run.result_stream(ARN) is None  # the redriven run writes its files again


def test_segments_are_kept_until_removed(run: MapRunStore) -> None:
    run.add_segment(ARN, "s1", Segment(12.5, [1, 2]))
    run.add_segment(ARN, "s2", Segment(13.0, []))
    assert run.segments(ARN) == {"s1": Segment(12.5, [1, 2]), "s2": Segment(13.0, [])}
    run.remove_segment(ARN, "s1")
    assert list(run.segments(ARN)) == ["s2"]


def test_outcome_histories_are_kept_for_new_outcomes_only(run: MapRunStore) -> None:
    idx, holder = grant(run)[0]
    event = {"id": 1, "type": "ExecutionStarted"}
    outcome = RecordedOutcome(idx, holder, ChildRecord("c0", ChildStatus.SUCCEEDED, 1.0, 2.0),
                              history=[event])
    run.record_outcomes(ARN, [outcome])
    run.record_outcomes(ARN, [outcome])
    assert run.child_history(new_run().execution_prefix + "c0") == [event]


def test_a_lease_has_one_holder_until_released(store: MapRunStore) -> None:
    assert store.acquire_lease(Lease.FINALIZE, ARN, "a", 10_000)
    assert not store.acquire_lease(Lease.FINALIZE, ARN, "b", 10_000)
    assert store.lease_held(Lease.FINALIZE, ARN)
    assert not store.renew_lease(Lease.FINALIZE, ARN, "b", 10_000)
    assert store.renew_lease(Lease.FINALIZE, ARN, "a", 10_000)
    store.release_lease(Lease.FINALIZE, ARN, "b")  # not b's to release
    assert store.lease_held(Lease.FINALIZE, ARN)
    store.release_lease(Lease.FINALIZE, ARN, "a")
    assert not store.lease_held(Lease.FINALIZE, ARN)
    assert store.acquire_lease(Lease.FINALIZE, ARN, "b", 10_000)


def test_task_results_read_back(store: MapRunStore) -> None:
    assert store.get_task_result(EXECUTION, 3) is None
    store.put_task_result(EXECUTION, 3, '{"ok":true}')
    assert store.get_task_result(EXECUTION, 3) == '{"ok":true}'


# -- the workers' side: the ChildLedger over the same store ---------------------------------------


def ledger_of(store: MapRunStore) -> ChildLedger:
    if isinstance(store, MemoryMapRunStore):
        return store.ledger()
    assert isinstance(store, RedisMapRunStore)
    return RedisLedger(store._r)


def batch_of(store: MapRunStore, granted: list[tuple[int, str]]) -> ChildBatch:
    keys = store.ledger_keys(ARN)
    run = store.get(ARN)
    assert run is not None
    return ChildBatch(
        map_run_arn=ARN, segment="s", state_machine_arn=run.labelled_arn,
        execution_prefix=run.execution_prefix, processor_key=run.processor_key,
        processor_hash=run.processor_hash, execution_type="STANDARD",
        semaphore_key=keys.semaphore, status_key=keys.status, control_key=keys.control,
        outbox_key=keys.outbox, journal_key=keys.journal,
        claims_key=keys.claims, lease_ms=1_000,
        children=[ChildWork(index=i, name=f"c{i}", holder=h, input="{}") for i, h in granted])


def test_the_ledger_reads_what_the_coordinator_wrote(run: MapRunStore) -> None:
    granted = grant(run)
    complete(run, [(granted[0][0], granted[0][1], "SUCCEEDED")])
    batch = batch_of(run, granted)
    ledger = ledger_of(run)
    assert ledger.processor(batch) == '{"StartAt": "P"}'
    assert ledger.map_run_status(batch) == "RUNNING"
    assert ledger.statuses(batch) == ["SUCCEEDED", None, None]


def test_a_ledger_renews_live_permits_only(run: MapRunStore) -> None:
    now = int(time.time() * 1000)
    granted = grant(run, now_ms=now, lease_ms=1_000)
    complete(run, [(granted[0][0], granted[0][1], "SUCCEEDED")])  # permit 0 released
    ledger_of(run).renew(batch_of(run, granted), [h for _, h in granted], now + 60_000)
    # The two live permits outlast their first lease; the released one was not resurrected
    assert grant(run, now_ms=now + 5_000, tag="b") == [(3, "3:b")]
    assert run.running_indexes(ARN) == [1, 2, 3]


def test_an_early_report_in_the_outbox_is_what_the_coordinator_settles(run: MapRunStore) -> None:
    granted = grant(run)
    batch = batch_of(run, granted)
    outcome = ChildOutcome(index=0, name="c0", holder=granted[0][1], status="FAILED",
                           error="E", cause="C", start=1.0, stop=2.0)
    ledger_of(run).report_early(batch, [outcome])
    assert run.late_outcomes(ARN, [0, 1]) == [outcome, None]


def test_a_journal_is_kept_until_dropped(run: MapRunStore) -> None:
    batch = batch_of(run, grant(run))
    ledger = ledger_of(run)
    ledger.keep_journal(batch, 1, '{"history_length":3}')
    assert ledger.journals(batch) == [None, '{"history_length":3}', None]
    ledger.drop_journal(batch, 1)
    assert ledger.journals(batch) == [None, None, None]


def test_a_claim_starts_the_lease_and_one_delivery_holds_it(run: MapRunStore) -> None:
    now = int(time.time() * 1000)
    granted = grant(run, now_ms=now, lease_ms=1_000)
    holders = [h for _, h in granted[:2]]
    batch = batch_of(run, granted[:2])
    ledger = ledger_of(run)
    # Parked once sent: the permits do not lapse while the message waits
    assert run.park_permits(ARN, [h for _, h in granted], now + 3_600_000) == len(granted)
    later = run.grant(ARN, now_ms=now + 10_000, lease_ms=1_000, max_children=0, tag="b",
                      max_bytes=0)
    assert later.reclaimed == 0
    # The first delivery claims them (its lease starts); a second delivery is refused
    assert ledger.claim(batch, holders, "first", now, now + 1_000) == [1, 1]
    assert ledger.claim(batch, holders, "second", now + 500, now + 1_500) == [0, 0]
    # The same delivery claiming again (its task retried in place) is not a new start
    assert ledger.claim(batch, holders, "first", now + 600, now + 1_600) == [1, 1]
    # Once the first delivery stopped renewing, a later delivery takes over (a second start)
    assert ledger.claim(batch, holders, "third", now + 2_000, now + 3_000) == [2, 2]
    # A claimed permit is not parked again
    assert run.park_permits(ARN, holders, now + 3_600_000) == 0

"""The stepmap extensions of the Map Run store, one contract for the Redis and memory stores.

Pause (the grant refuses while paused, reclaiming still works; paused time adds up) and
admission (created QUEUED into a FIFO per admission key, admitted round robin between keys
under a limit that can be set live and persists in the store).
"""

from __future__ import annotations

import json
import time


from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_base import FeedChunk, MapRunStore, ReadyChild
from orchestrator.store.maprun_record import FeedState, MapRun

# The same two stores (the Redis one on the real server) as the main contract.
from tests.integration.store.test_maprun_store_contract import new_run, store  # noqa: F401

ARN = "arn:aws:states:us-east-1:000000000000:mapRun:sm/L:run-1"
MACHINE_A = "arn:aws:states:us-east-1:000000000000:stateMachine:a"
MACHINE_B = "arn:aws:states:us-east-1:000000000000:stateMachine:b"


def fed(store: MapRunStore, n: int = 5, limit: int = 3) -> None:
    store.create(new_run(limit=limit), '{"StartAt": "P"}')
    store.append_children(ARN, FeedChunk(
        ready=[ReadyChild(i, f"c{i}", json.dumps({"i": i})) for i in range(n)], failed=[],
        feed=FeedState(next=n)))


def granted(store: MapRunStore, now_ms: int, tag: str = "a") -> list[int]:
    grants = store.grant(ARN, now_ms=now_ms, lease_ms=1000, max_children=100, tag=tag,
                         max_bytes=0)
    return [g.index for g in grants.granted]


def queued(store: MapRunStore, n: int, machine: str, at: float) -> MapRun:
    run = new_run(arn=f"{ARN}-{machine[-1]}{n}").replace(
        status=MapRunStatus.QUEUED, admission_key=machine, queued_at=at, start_date=at)
    store.create(run, "{}")
    return run


def test_a_paused_run_is_granted_nothing_until_resumed(store: MapRunStore) -> None:
    fed(store)
    now = int(time.time() * 1000)
    assert granted(store, now) == [0, 1, 2]
    assert store.pause(ARN, now=now / 1000)
    # Paused: a free slot (child 0 recorded as lapsed below) is not refilled
    assert granted(store, now, "b") == []
    # Its expired permits are still reclaimed, into the queue, and not granted again
    grants = store.grant(ARN, now_ms=now + 5000, lease_ms=1000, max_children=100, tag="c",
                         max_bytes=0)
    assert (grants.reclaimed, grants.granted) == (3, [])
    assert store.queue_length(ARN) == 5
    assert store.resume(ARN, now=now / 1000 + 7)
    assert granted(store, now + 5000, "d") == [0, 1, 2]


def test_paused_time_adds_up_over_pauses_and_a_second_pause_keeps_the_first_start(
        store: MapRunStore) -> None:
    fed(store)
    assert store.pause(ARN, now=100.0)
    assert store.pause(ARN, now=105.0)  # idempotent: still paused since 100
    run = store.get(ARN)
    assert run is not None and run.paused_at == 100.0 and run.paused_total(112.0) == 12.0
    assert store.resume(ARN, now=110.0)
    assert not store.resume(ARN, now=111.0)  # not paused: nothing to end
    assert store.pause(ARN, now=200.0) and store.resume(ARN, now=202.5)
    run = store.get(ARN)
    assert run is not None and run.paused_at is None and run.paused_seconds == 12.5


def test_a_closed_run_cannot_be_paused(store: MapRunStore) -> None:
    fed(store)
    store.finish(ARN, MapRunStatus.SUCCEEDED, stop_date=time.time())
    assert not store.pause(ARN, now=time.time())
    assert not store.pause("arn:aws:states:us-east-1:000000000000:mapRun:sm/L:none",
                           now=time.time())


def test_queued_runs_are_not_open_and_are_admitted_fifo_under_the_limit(
        store: MapRunStore) -> None:
    runs = [queued(store, i, MACHINE_A, 1000.0 + i) for i in range(3)]
    state = store.admission()
    assert (state.open, state.backlog, state.queued) == (0, 3, [r.arn for r in runs])
    assert store.open_runs() == []
    assert store.admit(2, now=2000.0) == [runs[0].arn, runs[1].arn]
    assert store.admit(2, now=2001.0) == []  # two open: the third waits
    first = store.get(runs[0].arn)
    assert first is not None and first.status is MapRunStatus.RUNNING
    assert first.admitted_at is not None and first.admitted_at >= first.start_date
    assert store.status(runs[2].arn) is MapRunStatus.QUEUED
    assert store.admission().position(runs[2].arn) == 1
    store.finish(runs[0].arn, MapRunStatus.SUCCEEDED, stop_date=2002.0)
    assert store.admit(2, now=2003.0) == [runs[2].arn]
    assert store.admission().backlog == 0


def test_admission_takes_state_machines_in_turn(store: MapRunStore) -> None:
    a = [queued(store, i, MACHINE_A, 1000.0 + i) for i in range(3)]
    b = [queued(store, i, MACHINE_B, 1010.0 + i) for i in range(2)]
    order = [a[0].arn, b[0].arn, a[1].arn, b[1].arn, a[2].arn]
    state = store.admission()
    assert state.queued == order
    assert [state.position(arn) for arn in order] == [1, 2, 3, 4, 5]
    assert store.admit(0, now=2000.0) == order  # 0: no limit


def test_a_live_limit_overrides_the_default_and_persists_until_reset(
        store: MapRunStore) -> None:
    runs = [queued(store, i, MACHINE_A, 1000.0 + i) for i in range(3)]
    store.set_open_limit(1)
    assert store.admission().limit_override == 1
    assert store.admit(100, now=2000.0) == [runs[0].arn]
    store.set_open_limit(None)
    assert store.admission().limit_override is None
    assert store.admit(100, now=2001.0) == [runs[1].arn, runs[2].arn]


def test_an_aborted_queued_run_leaves_the_backlog_without_taking_a_slot(
        store: MapRunStore) -> None:
    runs = [queued(store, i, MACHINE_A, 1000.0 + i) for i in range(2)]
    store.finish(runs[0].arn, MapRunStatus.ABORTED, stop_date=1500.0)
    assert store.admission().queued == [runs[1].arn]
    assert store.admit(1, now=2000.0) == [runs[1].arn]
    assert store.status(runs[0].arn) is MapRunStatus.ABORTED


def test_a_queued_run_is_granted_nothing(store: MapRunStore) -> None:
    run = queued(store, 0, MACHINE_A, 1000.0)
    store.append_children(run.arn, FeedChunk(
        ready=[ReadyChild(0, "q0", "{}")], failed=[], feed=FeedState(next=1)))
    grants = store.grant(run.arn, now_ms=0, lease_ms=1000, max_children=10, tag="a",
                         max_bytes=0)
    assert grants.granted == []

"""The Map Run's atomic Redis operations, on a real Redis server."""

from __future__ import annotations

import json
import time

import pytest
import redis

from orchestrator.maprun.records import MapRunStore
from orchestrator.maprun.scripts import Scripts
from orchestrator.store.keys import Keys

ARN = "arn:aws:states:us-east-1:000000000000:mapRun:sm/L:run-1"


@pytest.fixture
def env(redis_url: str) -> tuple[redis.Redis, Keys, Scripts, MapRunStore]:
    client = redis.Redis.from_url(redis_url)
    keys = Keys("t")
    store = MapRunStore(client, keys)
    store.create(ARN, {"limit": "3"}, execution_arn="arn:aws:states:us-east-1:000000000000:execution:sm:e")
    n = 10
    client.hset(keys.map_run_inputs(ARN), mapping={str(i): json.dumps({"i": i}) for i in range(n)})
    client.zadd(keys.map_run_queue(ARN), {str(i): i for i in range(n)})
    client.hset(keys.map_run_counters(ARN), mapping={"i.total": n, "e.total": n})
    return client, keys, Scripts(client), store


def _dispatch(env, now_ms: int | None = None, lease_ms: int = 60_000, tag: str = "a") -> list:
    client, keys, scripts, _ = env
    out = scripts.dispatch(
        keys=[keys.map_run_semaphore(ARN), keys.map_run_queue(ARN), keys.map_run(ARN),
              keys.map_run_inputs(ARN), keys.map_run_status(ARN), keys.map_run_counters(ARN)],
        args=[now_ms if now_ms is not None else int(time.time() * 1000), lease_ms, 100, tag])
    return [(int(out[i]), out[i + 1].decode()) for i in range(1, len(out), 3)]


def _complete(env, outcomes: list[tuple[int, str, str]]) -> list[int]:
    client, keys, scripts, _ = env
    args: list = []
    for idx, holder, status in outcomes:
        args += [idx, holder, status, json.dumps({"name": f"c{idx}", "status": status})]
    fresh = scripts.complete(
        keys=[keys.map_run_status(ARN), keys.map_run_counters(ARN), keys.map_run_semaphore(ARN),
              keys.map_run_children(ARN), keys.map_run_inputs(ARN), keys.map_run_queue(ARN)],
        args=[len(outcomes), *args])
    return [int(f) for f in fresh]


def test_dispatch_grants_no_more_permits_than_the_limit(env) -> None:
    granted = _dispatch(env)
    assert [idx for idx, _ in granted] == [0, 1, 2]
    assert _dispatch(env, tag="b") == []
    items, execs = env[3].counters(ARN)
    assert (items.running, items.pending, items.total) == (3, 7, 10)


def test_a_finished_child_frees_its_slot_for_the_next(env) -> None:
    granted = _dispatch(env)
    assert _complete(env, [(granted[0][0], granted[0][1], "SUCCEEDED")]) == [0]
    assert [idx for idx, _ in _dispatch(env, tag="b")] == [3]


def test_a_duplicated_report_counts_once(env) -> None:
    idx, holder = _dispatch(env)[0]
    assert _complete(env, [(idx, holder, "SUCCEEDED")]) == [idx]
    assert _complete(env, [(idx, holder, "FAILED")]) == []
    items, execs = env[3].counters(ARN)
    assert (items.succeeded, items.failed, items.running) == (1, 0, 2)
    assert items.pending + items.running + items.succeeded == items.total


def test_expired_leases_are_reclaimed_and_their_children_requeued(env) -> None:
    now = int(time.time() * 1000)
    first = _dispatch(env, now_ms=now, lease_ms=1_000)
    assert len(first) == 3
    # Later than the lease: the three permits are reclaimed and the children dispatched again.
    again = _dispatch(env, now_ms=now + 5_000, tag="b")
    assert [idx for idx, _ in again] == [0, 1, 2]
    assert all(holder.endswith(":b") for _, holder in again)
    items, _ = env[3].counters(ARN)
    assert items.running == 3


def test_a_stale_holder_cannot_release_another_holders_permit(env) -> None:
    client, keys, _, store = env
    now = int(time.time() * 1000)
    stale = _dispatch(env, now_ms=now, lease_ms=1_000)
    fresh = _dispatch(env, now_ms=now + 5_000, tag="b")
    # The stale attempt of child 0 reports: child 0 is done, but the new holder keeps its permit.
    assert _complete(env, [(stale[0][0], stale[0][1], "SUCCEEDED")]) == [0]
    holders = {h.decode() for h in client.zrange(keys.map_run_semaphore(ARN), 0, -1)}
    assert holders == {h for _, h in fresh}
    # The redundant attempt then reports: no double count, its permit is released.
    assert _complete(env, [(fresh[0][0], fresh[0][1], "SUCCEEDED")]) == []
    items, _ = store.counters(ARN)
    assert (items.succeeded, items.running) == (1, 2)
    assert items.pending + items.running + items.succeeded == items.total


def test_a_lowered_limit_applies_to_the_next_dispatch(env) -> None:
    client, keys, _, _ = env
    granted = _dispatch(env)
    client.hset(keys.map_run(ARN), "limit", "1")
    for idx, holder in granted[:2]:
        _complete(env, [(idx, holder, "SUCCEEDED")])
    # One permit is still held, and the limit is now one: nothing more is dispatched.
    assert _dispatch(env, tag="b") == []
    _complete(env, [(granted[2][0], granted[2][1], "SUCCEEDED")])
    assert [idx for idx, _ in _dispatch(env, tag="c")] == [3]


def test_abort_marks_running_children_aborted(env) -> None:
    client, keys, scripts, store = env
    _dispatch(env)
    aborted = scripts.abort_running(
        keys=[keys.map_run_status(ARN), keys.map_run_counters(ARN), keys.map_run_semaphore(ARN),
              keys.map_run_inputs(ARN)], args=["ABORTED"])
    assert sorted(int(i) for i in aborted) == [0, 1, 2]
    items, _ = store.counters(ARN)
    assert (items.aborted, items.running, items.pending) == (3, 0, 7)


def _fail_next(env, tag: str) -> None:
    idx, holder = _dispatch(env, tag=tag)[0]
    _complete(env, [(idx, holder, "FAILED")])


def test_no_permit_once_a_failure_exceeds_the_default_threshold(env) -> None:
    # Neither threshold set: a single failure fails the Map Run, so DISPATCH grants nothing
    # more, atomically with the recorded failure (before the control plane marks it FAILED).
    idx, holder = _dispatch(env)[0]
    _complete(env, [(idx, holder, "FAILED")])
    assert _dispatch(env, tag="b") == []


@pytest.mark.parametrize("timed_out", [False, True])
def test_no_permit_once_failures_exceed_the_tolerated_count(env, timed_out: bool) -> None:
    client, keys, _, _ = env
    client.hset(keys.map_run(ARN), mapping={"toleratedFailureCount": "1",
                                            "toleratedFailurePercentage": "null", "limit": "1"})
    _fail_next(env, "a")  # 1 failure: tolerated
    idx, holder = _dispatch(env, tag="b")[0]
    _complete(env, [(idx, holder, "TIMED_OUT" if timed_out else "FAILED")])  # 2 > 1
    assert _dispatch(env, tag="c") == []
    client.hset(keys.map_run(ARN), "toleratedFailureCount", "2")  # UpdateMapRun raises it
    assert len(_dispatch(env, tag="d")) == 1


def test_the_percentage_stops_dispatch_only_once_the_total_is_known(env) -> None:
    client, keys, _, _ = env
    client.hset(keys.map_run(ARN), mapping={"toleratedFailurePercentage": "20.0", "limit": "1"})
    for tag in "abc":
        _fail_next(env, tag)  # 3 of 10 items failed: 30 % > 20 %
    (idx, holder), = _dispatch(env, tag="d")  # the total may still grow while the reader reads
    _complete(env, [(idx, holder, "SUCCEEDED")])
    client.hset(keys.map_run(ARN), "readerDone", "1")
    assert _dispatch(env, tag="e") == []

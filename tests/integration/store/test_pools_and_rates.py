"""Rate limits and named pools in the grant script, on a real Redis (docs/limits.md).

Pools hold what their member Map Runs hold, so every way a permit ends (recorded outcome,
reclaimed lease, abort) returns it to the pool; tokens come from Redis TIME. Rates are checked
on token counts, never on elapsed time: a bucket's state is set, then the grant is looked at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_base import ChildRecord, FeedChunk, ReadyChild, RecordedOutcome
from orchestrator.store.maprun_record import Closing, FeedState, MapRun
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.pools import Pool, PoolExists, PoolInUse, PoolNotFound, RedisPoolStore
from tests.integration.store.test_maprun_store_contract import new_run

KEYS = Keys("t")
LEASE = 60_000


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


@pytest.fixture
def runs(client: redis.Redis) -> RedisMapRunStore:
    return RedisMapRunStore(client, KEYS)


@pytest.fixture
def pools(client: redis.Redis) -> RedisPoolStore:
    return RedisPoolStore(client, KEYS)


def open_run(store: RedisMapRunStore, name: str, *, limit: int = 100, children: int = 30,
             weight: int = 1, pools: tuple[str, ...] = (), items_per_second: float | None = None,
             children_per_second: float | None = None) -> str:
    arn = f"arn:aws:states:us-east-1:000000000000:mapRun:sm/L:{name}"
    run: MapRun = new_run(arn, limit).replace(
        pools=pools, items_per_second=items_per_second, children_per_second=children_per_second)
    store.create(run, "{}")
    store.append_children(arn, FeedChunk(
        ready=[ReadyChild(i, f"c{i}", "{}", items=weight) for i in range(children)], failed=[],
        feed=FeedState(next=children), reader_done=True))
    return arn


def grant(store: RedisMapRunStore, arn: str, n: int = 1000) -> list[str]:
    grants = store.grant(arn, now_ms=int(time.time() * 1000), lease_ms=LEASE, max_children=n,
                         tag="t", max_bytes=0)
    return [g.holder for g in grants.granted]


def finish_child(store: RedisMapRunStore, arn: str, holder: str) -> None:
    index = int(holder.split(":")[0])
    store.record_outcomes(arn, [RecordedOutcome(index, holder, ChildRecord(
        f"c{index}", ChildStatus.SUCCEEDED, 0.0, 0.0, output="{}"))])


def new_pool(store: RedisPoolStore, name: str, limit: int, rate: float | None = None) -> None:
    now = time.time()
    store.create(Pool(name, limit, rate, now, now))


def test_map_runs_of_a_pool_never_hold_more_than_its_limit(runs: RedisMapRunStore,
                                                           pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    a, b, c = (open_run(runs, n, pools=("db",)) for n in ("a", "b", "c"))
    granted = {arn: grant(runs, arn) for arn in (a, b, c)}
    assert sum(len(h) for h in granted.values()) == 10
    assert pools.usage("db").running == 10
    # a child ends: its permit returns to the pool, and a grant may use it again
    finish_child(runs, a, granted[a][0])
    assert pools.usage("db").running == 9
    assert len(grant(runs, c)) + len(grant(runs, b)) + len(grant(runs, a)) == 1
    assert pools.usage("db").running == 10


def test_a_run_at_its_share_leaves_freed_permits_to_a_hungry_run_and_wakes_it(
        runs: RedisMapRunStore, pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    a = open_run(runs, "a", pools=("db",))
    held = grant(runs, a)
    assert len(held) == 10
    b = open_run(runs, "b", pools=("db",))
    assert grant(runs, b) == []  # the pool is full
    finish_child(runs, a, held[0])
    grants = runs.grant(a, now_ms=int(time.time() * 1000), lease_ms=LEASE, max_children=100,
                        tag="t2", max_bytes=0)
    # a holds 9, above its share of 5 while b holds none: a takes nothing and wakes b
    assert grants.granted == [] and grants.wake == [b]
    assert len(grant(runs, b)) == 1


def test_fair_shares_converge_when_runs_keep_finishing(runs: RedisMapRunStore,
                                                       pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    arns = [open_run(runs, n, pools=("db",), children=200) for n in ("a", "b", "c")]
    held: dict[str, list[str]] = {arn: grant(runs, arn) for arn in arns}
    # every run wants permits: 3 each (the floor of 10 / 3) while another has less, then 4
    assert [len(held[arn]) for arn in arns] == [3, 3, 4]
    for _ in range(40):  # round after round: every run ends one child and grants again
        for arn in arns:
            if held[arn]:
                finish_child(runs, arn, held[arn].pop(0))
            for other in arns:
                held[other] += grant(runs, other)
        assert sum(len(h) for h in held.values()) <= 10
    assert sorted(len(h) for h in held.values()) == [3, 3, 4]


def test_a_member_that_cannot_be_granted_does_not_hold_the_others_to_a_share(
        runs: RedisMapRunStore, pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    a = open_run(runs, "a", pools=("db",))
    closing = open_run(runs, "b", pools=("db",))  # children queued, but the run is closing
    runs.begin_closing(closing, Closing(MapRunStatus.FAILED))
    assert len(grant(runs, a)) == 10


def test_a_member_at_its_own_max_concurrency_leaves_the_rest_of_the_pool_to_others(
        runs: RedisMapRunStore, pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    small = open_run(runs, "small", limit=3, pools=("db",))
    large = open_run(runs, "large", limit=100, pools=("db",))
    assert len(grant(runs, small)) == 3  # its MaxConcurrency, below its share of 5
    assert len(grant(runs, large)) == 7  # the whole rest: the pool is not left idle


def test_a_member_waiting_for_rate_tokens_does_not_hold_the_others_to_a_share(
        runs: RedisMapRunStore, pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    slow = open_run(runs, "slow", pools=("db",), children_per_second=10.0)  # 1 token
    fast = open_run(runs, "fast", pools=("db",))
    assert len(grant(runs, slow)) == 1
    assert len(grant(runs, fast)) == 9


def test_own_max_concurrency_and_pool_both_bound_the_grant(runs: RedisMapRunStore,
                                                           pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10)
    new_pool(pools, "api", 4)
    a = open_run(runs, "a", limit=3, pools=("db",))
    b = open_run(runs, "b", limit=100, pools=("db", "api"))
    assert len(grant(runs, a)) == 3
    assert len(grant(runs, b)) == 4  # the smaller pool
    assert pools.usage("db").running == 7 and pools.usage("api").running == 4


def test_expired_permits_of_a_dead_worker_return_to_the_pool_when_reclaimed(
        runs: RedisMapRunStore, pools: RedisPoolStore, client: redis.Redis) -> None:
    new_pool(pools, "db", 5)
    a = open_run(runs, "a", pools=("db",))
    assert len(grant(runs, a)) == 5
    b = open_run(runs, "b", pools=("db",))
    # the worker holding a's permits dies: they lapse (expiry in the past) ...
    sem = KEYS.map_run_semaphore(a)
    client.zadd(sem, {h: 1 for h in client.zrange(sem, 0, -1)})
    assert grant(runs, b) == []  # ... but count until a reclaims them
    grant(runs, a, n=0)  # the reconciler's dispatch of a reclaims them
    assert pools.usage("db").running == 0
    # both want permits again: shares of 2 and 3
    assert len(grant(runs, b)) == 2 and len(grant(runs, a)) == 3
    assert pools.usage("db").running == 5


def test_abort_and_finish_return_permits_and_leave_the_pool(runs: RedisMapRunStore,
                                                            pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 5)
    a = open_run(runs, "a", pools=("db",))
    assert len(grant(runs, a)) == 5
    with pytest.raises(PoolInUse) as refused:
        pools.delete("db")
    assert refused.value.runs == [a]
    runs.abort_running(a)
    runs.finish(a, MapRunStatus.ABORTED, stop_date=time.time())
    assert pools.usage("db") .running == 0 and pools.usage("db").runs == []
    # a redrive joins the pool again
    runs.redrive(a, now=time.time())
    assert pools.usage("db").runs == [a]
    runs.finish(a, MapRunStatus.ABORTED, stop_date=time.time())
    pools.delete("db")
    assert pools.get("db") is None
    with pytest.raises(PoolNotFound):
        pools.delete("db")


def test_pool_records_are_created_listed_changed_and_refused_twice(pools: RedisPoolStore) -> None:
    new_pool(pools, "db", 10, 50.0)
    new_pool(pools, "api", 3)
    with pytest.raises(PoolExists):
        new_pool(pools, "db", 1)
    assert [p.name for p in pools.list_pools()] == ["db", "api"]
    changed = pools.update("db", max_concurrency=20, items_per_second=None, clear_rate=True,
                           now=time.time())
    assert (changed.max_concurrency, changed.items_per_second) == (20, None)
    with pytest.raises(PoolNotFound):
        pools.update("nope", max_concurrency=1, items_per_second=None, clear_rate=False, now=0.0)


def test_items_per_second_takes_batch_weights_and_stops_at_the_tokens(
        runs: RedisMapRunStore, client: redis.Redis) -> None:
    # 1,000 items/s, burst 0.1 s: a bucket of 100 items; children carry 10 items each
    a = open_run(runs, "a", weight=10, items_per_second=1000.0)
    grants = runs.grant(a, now_ms=int(time.time() * 1000), lease_ms=LEASE, max_children=100,
                        tag="t", max_bytes=0)
    assert len(grants.granted) == 10  # 100 tokens / 10 items
    assert grants.retry_ms > 0  # a delayed dispatch is asked for, once
    again = runs.grant(a, now_ms=int(time.time() * 1000), lease_ms=LEASE, max_children=100,
                       tag="u", max_bytes=0)
    assert again.retry_ms == 0
    tokens = float(client.hget(KEYS.map_run(a), "rl.items.tokens") or b"nan")
    assert tokens < 10 + 1e-6  # what is left cannot pay for one more child


def test_a_batch_larger_than_the_bucket_goes_when_it_is_full_and_leaves_a_debt(
        runs: RedisMapRunStore, client: redis.Redis) -> None:
    a = open_run(runs, "a", weight=500, items_per_second=100.0)  # bucket of 10 items
    assert len(grant(runs, a)) == 1
    tokens = float(client.hget(KEYS.map_run(a), "rl.items.tokens") or b"nan")
    assert tokens <= 10 - 500 + 1  # in debt: the next batch waits ~5 s of refill
    assert grant(runs, a) == []


def test_children_per_second_counts_children_not_items(runs: RedisMapRunStore) -> None:
    a = open_run(runs, "a", weight=50, children_per_second=30.0)  # bucket of 3 children
    assert len(grant(runs, a)) == 3


def test_rates_change_live_and_zero_removes_them(runs: RedisMapRunStore) -> None:
    a = open_run(runs, "a", children_per_second=10.0)  # bucket of 1 child
    assert len(grant(runs, a)) == 1
    runs.set_rates(a, items_per_second=None, children_per_second=None)
    assert len(grant(runs, a)) == 29
    record = runs.get(a)
    assert record is not None and record.children_per_second is None


def test_pool_rate_is_shared_by_its_runs(runs: RedisMapRunStore, pools: RedisPoolStore) -> None:
    new_pool(pools, "api", 1000, rate=50.0)  # bucket of 5 items for all its runs
    a = open_run(runs, "a", pools=("api",))
    b = open_run(runs, "b", pools=("api",))
    assert len(grant(runs, a)) + len(grant(runs, b)) == 5

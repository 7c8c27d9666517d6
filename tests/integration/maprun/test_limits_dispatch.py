"""The dispatcher follows what rate limits and pools ask for (real Redis, in-process world).

A grant stopped by a rate asks for one delayed dispatch of its Map Run (nothing else may come:
its children may all have ended); a pool that leaves freed permits to a run below its fair
share asks for a dispatch of that run (it may have no report of its own coming).
"""

from __future__ import annotations

import time

import redis
from maprun_world import EXECUTION, World, request

from orchestrator import messages
from orchestrator.executions.binding import MapRunBinding
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.pools import Pool, RedisPoolStore
from workers.ledger import RedisLedger


def _items(n: int) -> list[dict[str, object]]:
    return [{"id": i, "fail": False} for i in range(n)]


def _world(redis_url: str) -> tuple[World, RedisPoolStore]:
    client = redis.Redis.from_url(redis_url)
    keys = Keys("limits")
    world = World(store=RedisMapRunStore(client, keys), ledger=RedisLedger(client),
                  clock=time.time)
    pools = RedisPoolStore(client, keys)
    world.coordinator.deps.pools = pools
    return world, pools


def test_a_grant_stopped_by_the_rate_asks_for_a_delayed_dispatch_once(redis_url: str) -> None:
    world, _ = _world(redis_url)
    arn = world.coordinator.start(request(_items(20), max_concurrency=20),
                                  EXECUTION, MapRunBinding(items_per_second=10.0))
    world.bus.control.clear()
    world.coordinator.feed(arn)  # feeds the window, then dispatches
    (batches, _, _), = world.bus.segments
    assert sum(len(b.children) for b in batches) == 1  # a bucket of 10 * 0.1 s = 1 item
    assert world.bus.sent(messages.MAP_RUN_DISPATCH) == [(arn,)]
    world.bus.control.clear()
    assert world.coordinator.dispatch(arn) == 0
    assert world.bus.sent(messages.MAP_RUN_DISPATCH) == []  # one delayed dispatch is enough


def test_a_run_leaving_pool_permits_to_a_hungry_run_asks_for_its_dispatch(
        redis_url: str) -> None:
    world, pools = _world(redis_url)
    pools.create(Pool("db", 4, None, time.time(), time.time()))
    bound = MapRunBinding(pools=("db",))
    first = world.coordinator.start(request(_items(10), max_concurrency=10),
                                    EXECUTION, bound)
    world.run_control()  # feed and dispatch
    assert pools.usage("db").running == 4
    second = world.coordinator.start(request(_items(10), max_concurrency=10),
                                     EXECUTION, bound)
    world.run_control()
    assert len(world.bus.segments) == 1 and pools.usage("db").runs == sorted([first, second])
    assert world.coordinator.store.running_indexes(second) == []  # the pool is full
    # the first run's children end: it is above its share (2) while the second holds none
    batches, _, _ = world.bus.segments.popleft()
    world.bus.control.clear()
    for report in world.run_children(batches):
        world.coordinator.record_outcomes(report.map_run_arn, report.outcomes)
    assert (second,) in world.bus.sent(messages.MAP_RUN_DISPATCH)
    assert world.coordinator.dispatch(second) == 2
    assert pools.usage("db").running <= 4

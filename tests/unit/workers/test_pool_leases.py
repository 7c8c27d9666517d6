"""The worker main process's renewal of the permits its pool runs (workers/pool_leases.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maprun_world import World, request

from orchestrator import messages
from workers.pool_leases import PoolLeases


@dataclass
class Request:
    """The parts of a Celery request that PoolLeases reads."""

    id: str
    name: str
    args: list[Any]


def test_only_the_permits_of_messages_the_pool_runs_are_renewed() -> None:
    world = World(lease_seconds=3, segment_size=1)
    arn = world.start(request([{"id": i, "fail": False} for i in range(2)], max_concurrency=2))
    world.run_control()
    (running, _, _), (dead, _, _) = world.bus.segments
    ledger = world.store.ledger()
    now_ms = int(world.clock() * 1000)
    for batch in (*running, *dead):  # both claimed by a worker: a 3-s lease each
        holders = [c.holder for c in batch.children]
        assert ledger.claim(batch, holders, "delivery", now_ms, now_ms + 3000) == [1]
    active = [Request("r1", messages.RUN_CHILDREN, [b.model_dump_json() for b in running]),
              Request("r2", messages.NOOP, [])]
    leases = PoolLeases(ledger, lambda: active)
    assert leases.renew_now() == 1
    # 10 s later only the message the pool still runs keeps its permit
    grants = world.store.grant(arn, now_ms=now_ms + 10_000, lease_ms=3000, max_children=10,
                               tag="later", max_bytes=0)
    assert grants.reclaimed == 1
    assert [g.index for g in grants.granted] == [dead[0].children[0].index]

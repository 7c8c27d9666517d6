"""The reconciler closes chord segments whose body never ran, from the child records."""

from __future__ import annotations

import time

import redis

from orchestrator.maprun.completion import close_overdue_segments
from orchestrator.maprun.context import MapRunContext
from orchestrator.settings import Settings

ARN = "arn:aws:states:us-east-1:000000000000:mapRun:sm/L:run-1"


def _ctx(redis_url: str) -> MapRunContext:
    settings = Settings(redis={"url": redis_url, "key_prefix": "seg"})
    sent: list = []
    return MapRunContext(settings=settings, redis=redis.Redis.from_url(redis_url),
                         send_task=lambda *a, **k: sent.append((a, k)), s3_factory=lambda: None)


def test_a_segment_whose_children_all_finished_is_closed_when_overdue(redis_url: str) -> None:
    ctx = _ctx(redis_url)
    keys = ctx.keys
    old = time.time() - 600
    ctx.redis.hset(keys.map_run_segments(ARN), mapping={
        "done": f"{old:.3f}|0,1",          # every child terminal
        "reclaimed": f"{old:.3f}|2",        # child 2 lost its permit and went back to the queue
        "running": f"{old:.3f}|3",          # child 3 still holds a permit
        "recent": f"{time.time():.3f}|4",   # not overdue yet
    })
    ctx.redis.hset(keys.map_run_status(ARN), mapping={"0": "SUCCEEDED", "1": "FAILED"})
    ctx.redis.zadd(keys.map_run_semaphore(ARN), {"3:tag": time.time() * 1000 + 60_000})
    ctx.redis.zadd(keys.map_run_queue(ARN), {"2": 2})

    assert close_overdue_segments(ctx, ARN, older_than=120) == 2

    remaining = {k.decode() for k in ctx.redis.hkeys(keys.map_run_segments(ARN))}
    assert remaining == {"running", "recent"}

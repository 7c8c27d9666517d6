"""Redriving a failed Map Run: only its unsuccessful children run again (spec 3.6).

The run keeps its ARN, its succeeded children and their results; FAILED, TIMED_OUT and
ABORTED children go back to the ready queue (their counters reset to 0, as AWS resets
``failed`` on redrive), never-started items simply continue from the reader's cursor, and
``redriveCount`` goes up. A FAILED or TIMED_OUT STANDARD child resumes at the state that
failed, from the journal its worker kept (``workers/runner.py``), as AWS redrives STANDARD
children. Decisions (unverified): an ABORTED child (stopped mid-run, no journal) and every
EXPRESS child run again from ``StartAt``; a child's ``RedriveCount`` shows the Map Run's.
"""

from __future__ import annotations

import time

from orchestrator import messages
from orchestrator.maprun.context import MapRunContext

UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")
MAX_REDRIVES = 1000


class MapRunNotRedrivable(Exception):
    """The Map Run cannot be redriven (running, succeeded, or redriven 1,000 times)."""


def redrive_map_run(ctx: MapRunContext, arn: str) -> int:
    """Put the unsuccessful children of a closed Map Run back to work; returns its redriveCount."""
    keys = ctx.keys
    rec = ctx.store.get(arn)
    if rec is None or rec["status"] not in ("FAILED", "ABORTED"):
        raise MapRunNotRedrivable(f"Map Run {arn} is {rec and rec['status']} and cannot be redriven")
    count = int(rec.get("redriveCount", "0")) + 1
    if count > MAX_REDRIVES:
        raise MapRunNotRedrivable(f"Map Run {arn} was already redriven {MAX_REDRIVES} times")
    statuses = {k.decode(): v.decode() for k, v in ctx.redis.hgetall(keys.map_run_status(arn)).items()}
    again = sorted(int(i) for i, st in statuses.items() if st in UNSUCCESSFUL)
    weights = ctx.redis.hmget(keys.map_run_inputs(arn), [f"w:{i}" for i in again]) if again else []
    items = sum(int(w) if w else 1 for w in weights)
    pipe = ctx.redis.pipeline(transaction=True)
    if again:
        pipe.hdel(keys.map_run_status(arn), *[str(i) for i in again])
        pipe.zadd(keys.map_run_queue(arn), {str(i): i for i in again})
        pipe.hincrby(keys.map_run_counters(arn), "i.dispatched", -items)
        pipe.hincrby(keys.map_run_counters(arn), "e.dispatched", -len(again))
    for kind in ("i", "e"):
        for status in UNSUCCESSFUL:
            pipe.hset(keys.map_run_counters(arn), f"{kind}.{status}", 0)
    pipe.hdel(keys.map_run(arn), "stopDate", "error", "cause", "closing", "result")
    pipe.hset(keys.map_run(arn), mapping={"status": "RUNNING", "redriveCount": str(count),
                                          "redriveDate": repr(time.time())})
    pipe.delete(keys.map_run_finalize_lock(arn))
    pipe.zadd(keys.open_map_runs(), {arn: time.time()})
    pipe.execute()
    ctx.send_control(messages.MAP_RUN_FEED, arn)
    return count

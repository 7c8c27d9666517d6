"""The dispatcher: turns free concurrency permits into Celery chord segments of children.

One Lua call reclaims expired leases, computes the free permits under the Map Run's current
limit (so UpdateMapRun applies to the very next dispatch), pops that many ready children and
grants each a permit held by a unique holder id. The children are packed into broker messages
(several child executions per message when the limit is large, one per message when it is
small, so a slow child never holds others back: ARCHITECTURE invariant 2), and the messages
into bounded chord segments. Each finished message reports its outcomes at once (a
``children_done`` message from the worker), which refills its slots; the chord body only
closes the segment's books.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from celery import chord, signature

from orchestrator import messages
from orchestrator.maprun.context import MapRunContext, child_name
from orchestrator.messages import outbox_key

log = logging.getLogger(__name__)

MAX_PER_CALL = 1024
#: Child inputs fetched per dispatch round trip (at least one child).
MAX_BYTES_PER_CALL = 4 * 1024 * 1024

#: Children are packed several to a message only while the backlog (children granted now plus
#: those still queued) fills at least this many messages. Without this bound a small Map Run
#: under a large limit (MaxConcurrency 0: 10,000) went out as ONE message of up to 32 children
#: that a single worker process ran one after the other: 30 children ran at concurrency 1,
#: behind the slowest of them (e2e test_maprun_invariants, convoy without a limit).
SPREAD_MESSAGES = 64


def children_per_message(limit: int, ceiling: int) -> int:
    """How many child executions one broker message carries under a concurrency limit.

    Small limits get one child per message, so every permit is a worker slot of its own and a
    slow child delays nobody; large limits amortise Celery's per-message cost.
    """
    return max(1, min(ceiling, limit // 64))


def spread_per_message(per_message: int, backlog: int) -> int:
    """Children per message for a dispatch: packed only when the backlog is large.

    Keeps at least :data:`SPREAD_MESSAGES` messages' worth of backlog, so that the work of a
    small or draining Map Run spreads over every free worker slot instead of queueing inside
    one message (ARCHITECTURE invariant 2).
    """
    return max(1, min(per_message, backlog // SPREAD_MESSAGES))


def dispatch(ctx: MapRunContext, arn: str) -> int:
    """Dispatch as many ready children as permits allow; returns how many were sent."""
    keys = ctx.keys
    rec = ctx.store.get(arn)
    if rec is None or rec["status"] != "RUNNING":
        return 0
    limit = int(rec.get("limit", "10000"))
    per_message = children_per_message(limit, ctx.settings.celery.children_per_message)
    lease_ms = int(ctx.settings.limits.lease_seconds * 1000)
    sent = settled = 0
    while True:
        tag = uuid.uuid4().hex[:10]
        result = ctx.scripts.dispatch(
            keys=[keys.map_run_semaphore(arn), keys.map_run_queue(arn), keys.map_run(arn),
                  keys.map_run_inputs(arn), keys.map_run_status(arn), keys.map_run_counters(arn),
                  outbox_key(keys.map_run_status(arn))],
            args=[int(time.time() * 1000), lease_ms, MAX_PER_CALL, tag, MAX_BYTES_PER_CALL],
        )
        reclaimed = int(result[0])
        if reclaimed:
            log.warning("map run %s: reclaimed %d expired permits", arn, reclaimed)
        if result[1]:
            # Children that ended but whose report is late: record them from the outbox (this
            # frees their permits), then grant again so the freed permits are used at once.
            settled += _settle(ctx, arn, result[1])
            if not result[2:]:
                continue
        granted = result[2:]
        if not granted:
            break
        children = [
            messages.ChildWork(index=int(granted[i]), name=child_name(rec["mapRunId"], int(granted[i])),
                               holder=granted[i + 1].decode(), input=granted[i + 2].decode())
            for i in range(0, len(granted), 3)
        ]
        packing = per_message
        if per_message > 1:
            backlog = len(children) + int(ctx.redis.zcard(keys.map_run_queue(arn)))
            packing = spread_per_message(per_message, backlog)
        _send_segments(ctx, arn, rec, children, packing, lease_ms)
        sent += len(children)
    _maybe_feed(ctx, arn, rec)
    if settled:
        # Settled outcomes may have completed the run or crossed a failure threshold; the feed
        # task ends with completion.after_progress, which checks both (no-op feeding when the
        # reader is done).
        ctx.send_control(messages.MAP_RUN_FEED, arn)
    return sent


def _settle(ctx: MapRunContext, arn: str, pairs: list[bytes]) -> int:
    """Record the outbox outcomes of ``(idx, holder)`` pairs whose permits expired."""
    from orchestrator.maprun import completion  # completion imports this module

    indexes = [pairs[i].decode() for i in range(0, len(pairs), 2)]
    holders = [pairs[i + 1].decode() for i in range(0, len(pairs), 2)]
    raw = ctx.redis.hmget(outbox_key(ctx.keys.map_run_status(arn)), indexes)
    outcomes = []
    for holder, text in zip(holders, raw, strict=True):
        if text is None:
            continue  # recorded meanwhile: the permit expires again and is dropped then
        # The permit the script renewed is the expired holder's; release that one (the outbox
        # may hold an earlier dispatch attempt's outcome of the same child).
        outcomes.append(messages.ChildOutcome.model_validate_json(text).model_copy(
            update={"holder": holder}))
    log.warning("map run %s: %d children settled from the outbox (late reports)", arn, len(outcomes))
    completion.apply_outcomes(ctx, arn, outcomes)
    return len(outcomes)


def _send_segments(ctx: MapRunContext, arn: str, rec: dict[str, str],
                   children: list[messages.ChildWork], per_message: int, lease_ms: int) -> None:
    keys = ctx.keys
    settings = ctx.settings
    segment_size = max(per_message, settings.limits.segment_size)
    for start in range(0, len(children), segment_size):
        segment_children = children[start:start + segment_size]
        segment = uuid.uuid4().hex[:12]
        header = []
        for m in range(0, len(segment_children), per_message):
            batch = messages.ChildBatch(
                map_run_arn=arn, segment=segment, state_machine_arn=rec["labelledArn"],
                execution_prefix=rec["executionPrefix"], processor_key=rec["processorKey"],
                processor_hash=rec["processorHash"], execution_type=rec["executionType"],  # type: ignore[arg-type]
                semaphore_key=keys.map_run_semaphore(arn), status_key=keys.map_run_status(arn),
                control_key=keys.map_run(arn), lease_ms=lease_ms,
                redrive_count=int(rec.get("redriveCount", "0")),
                children=segment_children[m:m + per_message],
            )
            header.append(signature(
                messages.RUN_CHILDREN, args=[batch.model_dump()],
                queue=settings.celery.children_queue,
            ))
        body = signature(messages.CLOSE_SEGMENT, args=[arn, segment],
                         queue=settings.celery.control_queue)
        # "{sent at}|{child indexes}": what the reconciler needs to close the segment from
        # the child records if its chord body never runs (ARCHITECTURE invariant 4).
        ctx.redis.hset(keys.map_run_segments(arn), segment,
                       f"{time.time():.3f}|" + ",".join(str(c.index) for c in segment_children))
        _apply(chord(header, body))


def _apply(canvas: Any) -> None:
    canvas.apply_async()


def _maybe_feed(ctx: MapRunContext, arn: str, rec: dict[str, str]) -> None:
    """Ask for more items when the window has drained below half."""
    if rec.get("readerDone") == "1":
        return
    queued = int(ctx.redis.zcard(ctx.keys.map_run_queue(arn)))
    if queued < int(rec["window"]) // 2 and not ctx.redis.exists(ctx.keys.map_run_feed_lock(arn)):
        ctx.send_control(messages.MAP_RUN_FEED, arn)

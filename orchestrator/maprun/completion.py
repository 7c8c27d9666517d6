"""Children reporting back: idempotent transitions, thresholds, refill, completion."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from orchestrator import messages
from orchestrator.asl import errors as asl_errors
from orchestrator.maprun import dispatcher, finalizer
from orchestrator.maprun.context import MapRunContext
from orchestrator.messages import outbox_key
from orchestrator.maprun.tolerance import ToleratedFailure

log = logging.getLogger(__name__)


def apply_outcomes(ctx: MapRunContext, arn: str, outcomes: Iterable[messages.ChildOutcome]) -> list[int]:
    """Record terminal statuses (first report wins); returns the indexes newly recorded."""
    keys = ctx.keys
    args: list[str | int] = []
    by_index: dict[int, messages.ChildOutcome] = {}
    # The redrive this child ran in: ListExecutions shows 0 for children a redrive did not rerun.
    redrives = int(ctx.redis.hget(keys.map_run(arn), "redriveCount") or 0)
    for o in outcomes:
        if o.status == "SUSPENDED":
            continue  # not terminal: the control plane hosts it (nested Distributed Map)
        record = {"name": o.name, "status": o.status, "start": o.start, "stop": o.stop}
        if redrives:
            record["redriveCount"] = redrives
        if o.output is not None:
            record["output"] = o.output
        if o.error is not None:
            record["error"] = o.error
            record["cause"] = o.cause or ""
        args += [o.index, o.holder, o.status, json.dumps(record)]
        by_index[o.index] = o
    if not by_index:
        return []
    fresh = ctx.scripts.complete(
        keys=[keys.map_run_status(arn), keys.map_run_counters(arn), keys.map_run_semaphore(arn),
              keys.map_run_children(arn), keys.map_run_inputs(arn), keys.map_run_queue(arn)],
        args=[len(by_index), *args],
    )
    fresh_indexes = [int(i) for i in fresh]
    histories = [(i, by_index[i].history) for i in fresh_indexes if by_index[i].history]
    pipe = ctx.redis.pipeline(transaction=False)
    if histories:
        prefix = ctx.store.field(arn, "executionPrefix") or ""
        for index, history in histories:
            child_arn = prefix + by_index[index].name
            pipe.rpush(keys.history(child_arn), *[json.dumps(e) for e in history or []])
    # These children now have a recorded status: their outbox entries (the copy a worker keeps
    # in case the report is late, see scripts.DISPATCH) are no longer needed.
    pipe.hdel(outbox_key(keys.map_run_status(arn)), *[str(i) for i in by_index])
    pipe.execute()
    return fresh_indexes


def tolerance_of(rec: dict[str, str]) -> ToleratedFailure:
    """The thresholds in force, as stored on the Map Run record."""
    count = rec.get("toleratedFailureCount")
    pct = rec.get("toleratedFailurePercentage")
    return ToleratedFailure(
        count=int(count) if count not in (None, "", "null") else None,
        percentage=float(pct) if pct not in (None, "", "null") else None,
    )


def after_progress(ctx: MapRunContext, arn: str) -> None:
    """Check thresholds and completion, then refill free slots."""
    rec = ctx.store.get(arn)
    if rec is None:
        return
    items, execs = ctx.store.counters(arn)
    if rec["status"] == "CLOSING":
        if execs.running == 0:
            closing = json.loads(rec["closing"])
            finalizer.finish(ctx, arn, "FAILED", closing["error"], closing["cause"])
        return
    if rec["status"] != "RUNNING":
        return
    reader_done = rec.get("readerDone") == "1"
    if tolerance_of(rec).exceeded(failed=items.failed, timed_out=items.timed_out,
                                  total=items.total, total_known=reader_done):
        fail(ctx, arn, asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
             asl_errors.EXCEED_TOLERATED_FAILURE_CAUSE)
        return
    if reader_done and execs.terminal >= execs.total:
        finalizer.finish(ctx, arn, "SUCCEEDED")
        return
    if reader_done and not ctx.redis.exists(ctx.keys.map_run_queue(arn)):
        return  # nothing left to dispatch (expired leases are reclaimed by the reconciler)
    dispatcher.dispatch(ctx, arn)


def fail(ctx: MapRunContext, arn: str, error: str, cause: str) -> None:
    """Fail the Map Run: stop dispatching; abort running STANDARD children, wait for EXPRESS ones."""
    rec = ctx.store.get(arn)
    if rec is None or rec["status"] != "RUNNING":
        return
    log.info("map run %s fails: %s", arn, error)
    if rec["executionType"] == "EXPRESS":
        _, execs = ctx.store.counters(arn)
        if execs.running > 0:
            # EXPRESS children cannot be stopped: the Map Run waits for them (spec 1.3).
            ctx.store.update(arn, status="CLOSING", closing={"error": error, "cause": cause})
            return
    finalizer.finish(ctx, arn, "FAILED", error, cause)


def children_done(ctx: MapRunContext, report: messages.ChildrenReport) -> None:
    """A ``run_children`` message finished (its link callback)."""
    apply_outcomes(ctx, report.map_run_arn, report.outcomes)
    after_progress(ctx, report.map_run_arn)


def close_overdue_segments(ctx: MapRunContext, arn: str, *, older_than: float) -> int:
    """Close chord segments whose body never ran, judging from the child records.

    A segment is done when every child it carried has a terminal status, or has been taken
    back by lease reclamation (its permit is gone and it sits in the ready queue again, where a
    later segment carries it). Correctness never waits for a chord callback: outcomes arrive
    through each message's link and leases, this only tidies the books.
    """
    keys = ctx.keys
    now = time.time()
    closed = 0
    for segment, raw in ctx.redis.hgetall(keys.map_run_segments(arn)).items():
        sent, _, indexes = raw.decode().partition("|")
        if now - float(sent) < older_than:
            continue
        children = [i for i in indexes.split(",") if i]
        statuses = ctx.redis.hmget(keys.map_run_status(arn), children) if children else []
        holders = {h.decode().split(":", 1)[0]
                   for h in ctx.redis.zrange(keys.map_run_semaphore(arn), 0, -1)}
        if all(st is not None or i not in holders for i, st in zip(children, statuses, strict=True)):
            ctx.redis.hdel(keys.map_run_segments(arn), segment)
            closed += 1
    return closed


def close_segment(ctx: MapRunContext, arn: str, segment: str) -> None:
    """Chord body: every message of the segment has reported; close its books.

    Outcomes never depend on this callback (invariant 4): they arrive with each message's
    ``children_done`` report, or from the outbox when a lease expires.
    """
    ctx.redis.hdel(ctx.keys.map_run_segments(arn), segment)
    after_progress(ctx, arn)

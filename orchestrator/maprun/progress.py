"""After progress: check the thresholds and completion of a Map Run, then refill free slots.

Runs after every recorded outcome, feed call and chord segment, and from the reconciler; it is
idempotent, so running it twice, late or concurrently only repeats checks.
"""

from __future__ import annotations

import logging

from orchestrator.asl import errors as asl_errors
from orchestrator.maprun import dispatcher, finalizer, streaming
from orchestrator.maprun.deps import Deps
from orchestrator.maprun.tolerance import ToleratedFailure
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_record import Closing, MapRun

log = logging.getLogger(__name__)


def tolerance_of(run: MapRun) -> ToleratedFailure:
    """The thresholds in force on a Map Run."""
    return ToleratedFailure(count=run.tolerated_failure_count,
                            percentage=run.tolerated_failure_percentage)


def after_progress(deps: Deps, arn: str, settle: dispatcher.Settle) -> None:
    """Check thresholds and completion, then refill free slots."""
    run = deps.store.get(arn)
    if run is None:
        return
    items, execs = deps.store.counters(arn)
    if run.status is MapRunStatus.CLOSING:
        # Closing: either EXPRESS children still run after a failure (wait for them), or a
        # finalizer is at work, or crashed; finish() takes over once its lease lapsed.
        if execs.running == 0:
            closing = run.closing or Closing(
                MapRunStatus.FAILED, asl_errors.MAP_RUN_FAILED,
                "The Map Run was closing but its closing record was lost")
            finalizer.finish(deps, arn, closing.status, closing.error, closing.cause)
        return
    if run.status is not MapRunStatus.RUNNING:
        return
    if tolerance_of(run).exceeded(failed=items.failed, timed_out=items.timed_out,
                                  total=items.total, total_known=run.reader_done):
        fail(deps, arn, asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
             asl_errors.EXCEED_TOLERATED_FAILURE_CAUSE)
        return
    if run.reader_done and execs.terminal >= execs.total:
        finalizer.finish(deps, arn, MapRunStatus.SUCCEEDED)
        return
    streaming.after_progress(deps, run, execs.terminal)
    if run.reader_done and deps.store.queue_length(arn) == 0:
        return  # nothing left to dispatch (expired leases are reclaimed by the reconciler)
    dispatcher.dispatch(deps, arn, settle)


def fail(deps: Deps, arn: str, error: str, cause: str) -> None:
    """Fail the Map Run: stop dispatching; abort running STANDARD children, wait for EXPRESS ones."""
    run = deps.store.get(arn)
    if run is None or run.status is not MapRunStatus.RUNNING:
        return
    log.info("map run %s fails: %s", arn, error)
    if run.execution_type == "EXPRESS":
        _, execs = deps.store.counters(arn)
        if execs.running > 0:
            # EXPRESS children cannot be stopped: the Map Run waits for them (docs/spec.md 1.3).
            deps.store.begin_closing(arn, Closing(MapRunStatus.FAILED, error, cause))
            return
    finalizer.finish(deps, arn, MapRunStatus.FAILED, error, cause)

"""The Map Run coordinator: the one public entry to a Map Run's life.

A Map Run is started by a parent's Distributed Map state, fed from its ItemReader, dispatched
under its concurrency limit, told about its children's outcomes, finished (results written,
the parent resumed), and may be redriven or aborted; a periodic reconcile pass repairs what a
crash or a lost message left behind. Each of these is one method of :class:`MapRunCoordinator`;
the modules beside this one do the work and take the same explicit dependencies
(:class:`~orchestrator.maprun.deps.Deps`): a store, a bus, an S3 client factory, a clock and
the settings.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator import messages
from orchestrator.asl import DistributedMapRequest, StatesError
from orchestrator.asl import errors as asl_errors
from orchestrator.executions.binding import MapRunBinding
from orchestrator.maprun import (
    admission,
    dispatcher,
    feeder,
    finalizer,
    lost_messages,
    outcomes,
    progress,
    segments,
    streaming,
)
from orchestrator.maprun.deps import Deps
from orchestrator.maprun.redrive import MapRunNotRedrivable, redrive_map_run
from orchestrator.maprun.starter import start_map_run
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_base import Lease, MapRunStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MapRunOutcome:
    """How a Map Run ended, as its parent sees it (``None`` from :meth:`result`: still open)."""

    status: MapRunStatus
    result: Any = None
    error: str = ""
    cause: str = ""


class MapRunCoordinator:
    """Starts, feeds, dispatches, records, finishes, redrives, aborts and reconciles Map Runs."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        #: Map Runs started by this process and not fed here yet (:meth:`feed_started`).
        self._started: list[str] = []

    @property
    def store(self) -> MapRunStore:
        """The Map Run store."""
        return self.deps.store

    # -- life ------------------------------------------------------------------------------
    def start(self, request: DistributedMapRequest, execution_arn: str,
              binding: MapRunBinding | None = None) -> str:
        """Create a Map Run for a Distributed Map state; fed once admitted (at once if free).

        ``binding``: its rate limits and pools (docs/limits.md).
        """
        arn = start_map_run(self.deps, request, execution_arn, binding)
        self._started.append(arn)
        return arn

    def feed_started(self) -> None:
        """Feed the Map Runs this process just started, without waiting for their feed message.

        Called by the control task that started them once its advance lease is released: the
        first children leave a message hop sooner. The feed message :meth:`start` sent still
        comes (a crash before this point loses nothing); it then finds the reader done, or
        the feed lease held, and only checks progress.
        """
        while self._started:
            self.feed(self._started.pop(0))

    def feed(self, arn: str) -> None:
        """Fill the dispatch window; a failing reader fails the Map Run."""
        try:
            feeder.feed(self.deps, arn, dispatch=lambda: self.dispatch(arn))
        except StatesError as exc:
            progress.fail(self.deps, arn, exc.error, exc.cause)
            return
        self.progress(arn)

    def dispatch(self, arn: str) -> int:
        """Grant free permits to ready children and send them; returns how many were sent."""
        return dispatcher.dispatch(self.deps, arn, self._settle)

    def write(self, arn: str) -> None:
        """Stream the ended children's result records into the result files (one pass)."""
        streaming.write(self.deps, arn)

    def record_outcomes(self, arn: str, reported: Iterable[messages.ChildOutcome]) -> list[int]:
        """Record children's outcomes, then check progress; returns the indexes newly recorded.

        A child whose worker could not read its byte range fails the Map Run with that
        States.ItemReaderFailed, as the feeder's own read failure does (before the failure
        could count against the tolerated threshold).
        """
        reported = list(reported)
        fresh = outcomes.record(self.deps, arn, reported)
        unread = next((o for o in reported if o.reader_failed and o.error is not None), None)
        if unread is not None:
            progress.fail(self.deps, arn, unread.error or "", unread.cause or "")
        self.progress(arn)
        return fresh

    def children_done(self, report: messages.ChildrenReport) -> None:
        """A ``run_children`` message finished on a worker."""
        self.record_outcomes(report.map_run_arn, report.outcomes)

    def close_segment(self, arn: str, segment: str) -> None:
        """A chord body: every message of the segment reported."""
        self.deps.store.remove_segment(arn, segment)
        self.progress(arn)

    def progress(self, arn: str) -> None:
        """Check thresholds and completion, then refill free slots."""
        progress.after_progress(self.deps, arn, self._settle)

    def fail(self, arn: str, error: str, cause: str) -> None:
        """Fail the Map Run (aborting STANDARD children, waiting for EXPRESS ones)."""
        progress.fail(self.deps, arn, error, cause)

    def finish(self, arn: str, status: MapRunStatus, error: str | None = None,
               cause: str | None = None) -> None:
        """Close the Map Run with ``status`` and resume its parent (idempotent)."""
        finalizer.finish(self.deps, arn, status, error, cause)

    def redrive(self, arn: str) -> int:
        """Run a closed Map Run's unsuccessful children again; returns the redrive count.

        Raises:
            MapRunNotRedrivable: it is open, succeeded, or was redriven too often.
        """
        return redrive_map_run(self.deps, arn)

    def abort(self, execution_arn: str) -> None:
        """Abort the open Map Runs of an execution (StopExecution); also queued and paused ones."""
        for arn in self.deps.store.list_for_execution(execution_arn):
            status = self.deps.store.status(arn)
            if status is not None and status.is_open:
                finalizer.finish(self.deps, arn, MapRunStatus.ABORTED)

    def reconcile(self) -> bool:
        """One reconciler pass (at most one per interval across control processes).

        Returns False when another process had this interval's pass.
        """
        ttl_ms = int(messages.RECONCILE_EVERY * 800)
        if not self.deps.store.acquire_lease(Lease.RECONCILE, "", uuid.uuid4().hex, ttl_ms):
            return False
        overdue = 2 * self.deps.settings.limits.lease_seconds
        try:
            admission.admit(self.deps)  # a limit raised live, a lost trigger
        except Exception:  # noqa: BLE001 - the open runs are reconciled all the same
            log.exception("admission pass failed")
        runs = self.deps.store.open_runs()
        # Parked permits are only right while their messages wait in the queue.
        queue_empty = bool(runs) and self.deps.bus.children_waiting() == 0
        # Messages a worker took but neither started nor acked (it died in between).
        reserved = lost_messages.reserved_by_run(
            self.deps.bus.children_reserved(self.deps.clock() - overdue) if runs else ())
        for arn in runs:
            try:
                if queue_empty:
                    lost_messages.unpark_lost(self.deps, arn, older_than=overdue)
                lost_messages.unpark_reserved(self.deps, arn, reserved.get(arn, ()))
                segments.close_overdue_segments(self.deps, arn, older_than=overdue)
                self.progress(arn)
                # Reclaims expired permits even when nothing is queued.
                self.dispatch(arn)
            except Exception:  # noqa: BLE001 - one bad run must not stop the others
                log.exception("reconcile failed for %s", arn)
        return True

    def result(self, arn: str) -> MapRunOutcome | None:
        """How the Map Run ended, or ``None`` while it is open.

        Raises:
            LookupError: no such Map Run.
        """
        run = self.deps.store.get(arn)
        if run is None:
            raise LookupError(f"Map Run {arn} does not exist")
        if run.status.is_open:
            return None
        if run.status is MapRunStatus.SUCCEEDED:
            return MapRunOutcome(run.status, result=json.loads(run.result or "null"))
        # Never an empty cause: an ABORTED Map Run has none of its own (its execution was
        # stopped), and a parent that reads it (a redrive that did not redrive it) must say why.
        return MapRunOutcome(run.status, error=run.error or asl_errors.MAP_RUN_FAILED,
                             cause=run.cause or _cause_of(arn, run.status))

    # -- internals -------------------------------------------------------------------------
    def _settle(self, arn: str, late: Sequence[messages.ChildOutcome]) -> None:
        # Late outcomes from the outbox: recorded like any report (the one place), without a
        # progress check here; the dispatcher asks for one once it is done.
        outcomes.record(self.deps, arn, late)


def _cause_of(arn: str, status: MapRunStatus) -> str:
    """Why a Map Run that recorded no cause did not succeed."""
    if status is MapRunStatus.ABORTED:
        return (f"The Map Run {arn} was aborted (its execution was stopped) and was not "
                "redriven")
    return f"The Map Run {arn} ended {status.value} without a recorded cause"


__all__ = ["MapRunCoordinator", "MapRunNotRedrivable", "MapRunOutcome"]

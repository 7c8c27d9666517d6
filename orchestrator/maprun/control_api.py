"""Pause, resume and admission: the stepmap extensions of the Map Run API.

None of this exists on AWS (docs/extensions.md). The operations are reached on the AWS face
as ``StepmapPauseMapRun``, ``StepmapResumeMapRun``, ``StepmapDescribeAdmission`` and
``StepmapUpdateAdmission`` (targets no AWS SDK sends), and on ``/v1`` as
``POST /v1/map-runs/{arn}:pause`` / ``:resume`` and ``GET|PUT /v1/admission``.

* **Pause** keeps the run open and RUNNING: the grant script grants no permit while the
  record's ``pausedAt`` is set, so no child and no message is sent; children already sent run
  to their end and are recorded; counters, window and reader cursor stay in the store. The
  run still closes when nothing is left to run (every child ended), still fails when running
  children cross the tolerated-failure threshold, and StopExecution still aborts it.
* **Resume** ends the pause (its length is added to ``pausedSeconds``) and asks the control
  plane to feed and dispatch at once; the reconciler would within one pass anyway.
* **Admission**: the open-Map-Run limit in force and the backlog, and a live change of the
  limit; a raised limit admits queued runs at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orchestrator import messages
from orchestrator.executions.errors import ValidationException
from orchestrator.settings import Settings
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_base import MapRunStore
from orchestrator.store.maprun_record import MapRun

#: The largest open-Map-Run limit accepted live.
MAX_OPEN_LIMIT = 1_000_000
#: Queued Map Runs listed by DescribeAdmission (the first in admission order).
BACKLOG_SHOWN = 100


def extension_fields(store: MapRunStore, run: MapRun, now: float) -> dict[str, Any]:
    """DescribeMapRun's ``stepmap`` member: pause and admission state of ``run``."""
    queued = run.status is MapRunStatus.QUEUED
    out: dict[str, Any] = {
        "paused": run.paused and run.status.is_open,
        "pausedSeconds": round(run.paused_total(now), 3),
        "queued": queued,
    }
    if run.paused_at is not None and run.status.is_open:
        out["pausedDate"] = run.paused_at
    if queued:
        out["queuePosition"] = store.admission().position(run.arn)
    if run.queued_at is not None:
        out["queuedDate"] = run.queued_at
    if run.admitted_at is not None:
        out["admittedDate"] = run.admitted_at
    return out


class MapRunControlMixin:
    """Pause, resume and admission operations of :class:`orchestrator.maprun.api.MapRunApi`."""

    store: MapRunStore
    settings: Settings
    clock: Callable[[], float] = time.time
    _record: Callable[[str], MapRun]
    _send: Callable[..., None]

    def pause_map_run(self, map_run_arn: str) -> dict[str, Any]:
        """Stop dispatching a Map Run's children until it is resumed (idempotent)."""
        self._record(map_run_arn)
        if not self.store.pause(map_run_arn, now=self.clock()):
            raise ValidationException(
                f"Cannot pause Map Run '{map_run_arn}': it is closing or closed",
                reason="CANNOT_PAUSE_COMPLETED_MAP_RUN")
        return self._pause_state(map_run_arn)

    def resume_map_run(self, map_run_arn: str) -> dict[str, Any]:
        """Dispatch a paused Map Run's children again (idempotent)."""
        run = self._record(map_run_arn)
        if not run.status.is_open:
            raise ValidationException(
                f"Cannot resume Map Run '{map_run_arn}': it is {run.status.value}; redrive "
                "its execution instead", reason="CANNOT_RESUME_COMPLETED_MAP_RUN")
        if self.store.resume(map_run_arn, now=self.clock()):
            self._send(messages.MAP_RUN_FEED, map_run_arn)
        return self._pause_state(map_run_arn)

    def _pause_state(self, map_run_arn: str) -> dict[str, Any]:
        run = self._record(map_run_arn)
        fields = extension_fields(self.store, run, self.clock())
        return {"mapRunArn": map_run_arn, "paused": fields["paused"],
                "pausedSeconds": fields["pausedSeconds"],
                **({"pausedDate": fields["pausedDate"]} if "pausedDate" in fields else {})}

    def describe_admission(self) -> dict[str, Any]:
        """The open-Map-Run limit in force, where it comes from, the open count and backlog."""
        state = self.store.admission()
        override = state.limit_override
        return {
            "openMapRunLimit": override if override is not None
            else self.settings.limits.open_map_runs,
            "limitSource": "live" if override is not None else "settings",
            "settingsLimit": self.settings.limits.open_map_runs,
            "openMapRuns": state.open,
            "backlogSize": state.backlog,
            "backlog": [{"mapRunArn": arn, "queuePosition": n}
                        for n, arn in enumerate(state.queued[:BACKLOG_SHOWN], start=1)],
        }

    def update_admission(self, open_map_run_limit: int | None) -> dict[str, Any]:
        """Set the open-Map-Run limit live (``None``: back to the setting); admits at once."""
        if open_map_run_limit is not None and not 0 <= open_map_run_limit <= MAX_OPEN_LIMIT:
            raise ValidationException(
                f"openMapRunLimit must be an integer from 0 (no limit) to {MAX_OPEN_LIMIT}, "
                f"not {open_map_run_limit}")
        self.store.set_open_limit(open_map_run_limit)
        # Admitting here (not only in the control plane) makes a raised limit take effect
        # now; the admitted runs are fed by the control plane.
        for arn in self.store.admit(self.settings.limits.open_map_runs, now=self.clock()):
            self._send(messages.MAP_RUN_FEED, arn)
        return self.describe_admission()


__all__ = ["MapRunControlMixin", "extension_fields"]

"""The engine's ports as the control plane implements them for parent executions.

Nothing here blocks: a Task is sent to a worker and the execution suspends until the result
comes back; a Wait longer than a moment suspends until a delayed ``advance`` message; a
Distributed Map starts a Map Run and suspends until the Map Run resumes the parent.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.asl import (
    DistributedMapRequest,
    Pending,
    StatesError,
    TaskRequest,
    WaitRequest,
)
from orchestrator.asl.ports import MapRunResultRequest
from orchestrator.maprun.context import MapRunContext
from orchestrator.maprun.starter import start_map_run

#: Waits up to this long are slept through in the control process; longer ones suspend.
INLINE_WAIT_SECONDS = 1.0


class ControlClock:
    """Real time; long waits suspend the execution instead of blocking a worker."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, state_name: str, until: datetime) -> None:
        delay = (until - datetime.now(UTC)).total_seconds()
        if delay <= 0:
            return
        if delay <= INLINE_WAIT_SECONDS:
            time.sleep(delay)
            return
        raise Pending(WaitRequest(state_name=state_name, until=until))


class ControlTaskInvoker:
    """Tasks of parent executions run on workers: always answer later."""

    def invoke(self, request: TaskRequest) -> Any:
        raise Pending(request)


class ControlMapRunner:
    """Starts Map Runs in this process and reads their outcome from Redis."""

    def __init__(self, ctx: MapRunContext, execution_arn: str) -> None:
        self.ctx = ctx
        self.execution_arn = execution_arn

    def start(self, request: DistributedMapRequest) -> str:
        return start_map_run(self.ctx, request.to_dict(), self.execution_arn)

    def result(self, map_run_arn: str) -> Any:
        rec = self.ctx.store.get(map_run_arn)
        if rec is None:
            raise StatesError("States.Runtime", f"Map Run {map_run_arn} does not exist")
        status = rec["status"]
        if status == "SUCCEEDED":
            return json.loads(rec["result"])
        if status in ("FAILED", "ABORTED"):
            raise StatesError(rec.get("error") or "States.MapRunFailed", rec.get("cause") or "")
        raise Pending(MapRunResultRequest(state_name=rec.get("stateName", ""), map_run_arn=map_run_arn))


def wait_remaining(request: WaitRequest) -> float:
    """Seconds until a WaitRequest is due (<= 0 when due)."""
    return (request.until - datetime.now(UTC)).total_seconds()


__all__ = ["ControlClock", "ControlMapRunner", "ControlTaskInvoker", "wait_remaining", "timedelta"]

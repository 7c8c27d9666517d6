"""The engine's ports as the control plane implements them for parent executions.

Nothing here blocks: a Task is sent to a worker and the execution suspends until the result
comes back; a Wait longer than a moment suspends until a delayed ``advance`` message; a
Distributed Map starts a Map Run and suspends until the Map Run resumes the parent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
from orchestrator.executions.binding import MapRunBinding
from orchestrator.maprun import MapRunCoordinator
from orchestrator.statuses import MapRunStatus

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
    """Starts Map Runs through the coordinator and reads how they ended."""

    def __init__(self, map_runs: MapRunCoordinator, execution_arn: str,
                 binding: Callable[[DistributedMapRequest], MapRunBinding] | None = None) -> None:
        self.map_runs = map_runs
        self.execution_arn = execution_arn
        #: The rate limits and pools of a Map Run (docs/limits.md); may raise StatesError.
        self.binding = binding

    def start(self, request: DistributedMapRequest) -> str:
        binding = self.binding(request) if self.binding is not None else None
        return self.map_runs.start(request, self.execution_arn, binding)

    def result(self, map_run_arn: str) -> Any:
        try:
            ended = self.map_runs.result(map_run_arn)
        except LookupError:
            raise StatesError("States.Runtime", f"Map Run {map_run_arn} does not exist") from None
        if ended is None:
            run = self.map_runs.store.get(map_run_arn)
            state_name = run.state_name if run is not None else ""
            raise Pending(MapRunResultRequest(state_name=state_name, map_run_arn=map_run_arn))
        if ended.status is MapRunStatus.SUCCEEDED:
            return ended.result
        raise StatesError(ended.error, ended.cause)


def wait_remaining(request: WaitRequest) -> float:
    """Seconds until a WaitRequest is due (<= 0 when due)."""
    return (request.until - datetime.now(UTC)).total_seconds()


__all__ = ["ControlClock", "ControlMapRunner", "ControlTaskInvoker", "wait_remaining", "timedelta"]

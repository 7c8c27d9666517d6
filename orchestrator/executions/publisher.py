"""Publishes control-plane work as Celery tasks sent by name (no import of the task code)."""

from __future__ import annotations

from typing import Any

from orchestrator.messages import (
    ADVANCE_EXECUTION,
    MAP_RUN_DISPATCH,
    REDRIVE_EXECUTION,
    STOP_EXECUTION,
)
from orchestrator.settings import Settings


class CeleryPublisher:
    """A :class:`~orchestrator.executions.service.Publisher` over Celery.

    Each call sends one task with the execution ARN as its only argument to the control queue.

    Args:
        settings: broker URL and control queue name.
        app: a Celery app to send with (built from the settings when omitted).
    """

    def __init__(self, settings: Settings, app: Any | None = None) -> None:
        if app is None:
            import celery

            app = celery.Celery("stepmap-api", broker=settings.broker_url)
        self._app = app
        self._queue = settings.celery.control_queue

    def send_task(self, name: str, *, args: list[Any], queue: str | None = None) -> None:
        """Send a control task by name (the Map Run API's resume and admission changes)."""
        self._app.send_task(name, args=args, queue=queue or self._queue)

    def _send(self, name: str, execution_arn: str) -> None:
        self._app.send_task(name, args=[execution_arn], queue=self._queue)

    def advance_execution(self, execution_arn: str) -> None:
        """Ask the control plane to run (or continue) an execution."""
        self._send(ADVANCE_EXECUTION, execution_arn)

    def stop_execution(self, execution_arn: str) -> None:
        """Tell the control plane an execution was stopped (it aborts the Map Runs)."""
        self._send(STOP_EXECUTION, execution_arn)

    def redrive_execution(self, execution_arn: str) -> None:
        """Ask the control plane to resume a redriven execution."""
        self._send(REDRIVE_EXECUTION, execution_arn)

    def dispatch_map_run(self, map_run_arn: str) -> None:
        """Ask the control plane to grant a Map Run's free permits now (a limit was raised)."""
        self._send(MAP_RUN_DISPATCH, map_run_arn)

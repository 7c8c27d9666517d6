"""Thin control-plane tasks: decode the message, call the coordinator or the parent runner.

Registering them imports nothing of the control plane itself: the first task a pool process
runs builds its :class:`~orchestrator.control.runtime.Runtime` (and imports it then), so the
worker's main process, which only receives messages and hands them to the pool, stays small.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from celery import Celery, signals

from orchestrator import heap_trim, messages
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.control.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: Celery, settings: Settings) -> None:
    """Register the control tasks on ``app``."""
    holder: dict[str, Runtime] = {}

    def rt() -> Runtime:
        if "rt" not in holder:
            from orchestrator.control.runtime import Runtime

            holder["rt"] = Runtime(app, settings)
        return holder["rt"]

    @app.task(name=messages.ADVANCE_EXECUTION, acks_late=True)
    def advance_execution(arn: str) -> None:
        rt().parents.advance(arn)
        rt().coordinator.feed_started()

    @app.task(name=messages.TASK_DONE, acks_late=True)
    def task_done(report: dict[str, Any]) -> None:
        rt().parents.task_done(messages.TaskReport.model_validate(report))
        rt().coordinator.feed_started()

    @app.task(name=messages.CALLBACK_TIMER, acks_late=True)
    def callback_timer(token: str) -> None:
        callbacks = rt().parents.callbacks
        if callbacks is not None:
            callbacks.timer(token)

    @app.task(name=messages.STOP_EXECUTION, acks_late=True)
    def stop_execution(arn: str) -> None:
        rt().parents.stop(arn)

    @app.task(name=messages.REDRIVE_EXECUTION, acks_late=True)
    def redrive_execution(arn: str) -> None:
        rt().parents.redrive(arn)

    @app.task(name=messages.MAP_RUN_FEED, acks_late=True)
    def map_run_feed(arn: str) -> None:
        rt().coordinator.feed(arn)

    @app.task(name=messages.MAP_RUN_DISPATCH, acks_late=True)
    def map_run_dispatch(arn: str) -> None:
        rt().coordinator.dispatch(arn)

    @app.task(name=messages.MAP_RUN_WRITE, acks_late=True)
    def map_run_write(arn: str) -> None:
        rt().coordinator.write(arn)

    @app.task(name=messages.CHILDREN_DONE, acks_late=True)
    def children_done(report: str | dict[str, Any]) -> None:
        decoded = messages.decode(messages.ChildrenReport, report)
        rt().parents.host_suspended(decoded)
        rt().coordinator.children_done(decoded)
        rt().coordinator.feed_started()

    @app.task(name=messages.CLOSE_SEGMENT, acks_late=True)
    def close_segment(parts: list[Any], arn: str, segment: str) -> None:
        rt().coordinator.close_segment(arn, segment)

    @app.task(name=messages.RECONCILE, acks_late=True)
    def reconcile() -> None:
        if rt().coordinator.reconcile():
            rt().parents.sweep()

    if settings.celery.idle_trim_seconds > 0:
        _trim_when_idle(settings.celery.idle_trim_seconds)

    @signals.worker_ready.connect(weak=False)
    def _start_reconciler(**_: Any) -> None:  # pragma: no cover - runs in the worker
        # A timer in the worker's main process asks for a pass every interval (one pass per
        # interval runs: the reconcile lease). It replaced a chain of tasks that each sent the
        # next one: a send that failed while Redis restarted ended the chain, and with it the
        # reconciler, until the control worker restarted (tests/e2e/test_pause_and_admission).
        threading.Thread(target=_reconcile_timer, args=(app, settings), daemon=True,
                         name="stepmap-reconcile-timer").start()


def _trim_when_idle(idle_seconds: float) -> None:
    """Each prefork pool process returns its freed heap to the OS once idle (``heap_trim``)."""

    @signals.worker_process_init.connect(weak=False)
    def _start_trimmer(**_: Any) -> None:  # pragma: no cover - runs in a pool process
        trim = heap_trim.libc_trim()
        if trim is None:
            return
        trimmer = heap_trim.IdleTrimmer(idle_seconds, trim)
        signals.task_prerun.connect(lambda **_: trimmer.task_started(), weak=False)
        signals.task_postrun.connect(lambda **_: trimmer.task_finished(), weak=False)
        trimmer.start()


def _reconcile_timer(app: Celery, settings: Settings) -> None:  # pragma: no cover - worker
    """Send a RECONCILE task every ``messages.RECONCILE_EVERY`` seconds, riding out outages."""
    while True:
        try:
            app.send_task(messages.RECONCILE, queue=settings.celery.control_queue)
        except Exception:  # noqa: BLE001 - the broker is down: try again next interval
            log.warning("could not ask for a reconcile pass (broker unreachable?)", exc_info=True)
        time.sleep(messages.RECONCILE_EVERY)

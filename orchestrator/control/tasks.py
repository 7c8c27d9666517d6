"""Thin control-plane tasks: decode the message, call the coordinator or the parent runner."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery, signals

from orchestrator import messages
from orchestrator.control.bus import CeleryBus
from orchestrator.control.callbacks import CallbackWaits
from orchestrator.control.nested import NestedExecutions
from orchestrator.control.parent import ParentRunner
from orchestrator.executions.publisher import CeleryPublisher
from orchestrator.executions.service import StepFunctionsService
from orchestrator.maprun import Deps, MapRunCoordinator
from orchestrator.maprun.coordinator import RECONCILE_EVERY
from orchestrator.settings import Settings
from orchestrator.store.callbacks import CallbackStore
from orchestrator.store.child_metrics import RedisChildMetrics
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.pools import RedisPoolStore
from orchestrator.store.redis_store import RedisStore

log = logging.getLogger(__name__)


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint.

    boto3 is imported here, on first use: the worker's main process (which only hands
    messages to the pool) and pool processes that never read or write S3 do not carry it.
    """
    import boto3

    return boto3.client(
        "s3", endpoint_url=settings.s3.endpoint_url, region_name=settings.s3.region,
        aws_access_key_id=settings.s3.access_key_id.get_secret_value(),
        aws_secret_access_key=settings.s3.secret_access_key.get_secret_value(),
    )


class Runtime:
    """Per-process singletons of the control worker, wired once."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        records = RedisStore.from_url(settings.redis.url, settings.redis.key_prefix)
        map_runs = RedisMapRunStore.from_url(settings.redis.url, settings.redis.key_prefix)
        bus = CeleryBus(app, settings)
        self.coordinator = MapRunCoordinator(Deps(
            store=map_runs, bus=bus, s3_factory=lambda: s3_client(settings), settings=settings,
            child_metrics=RedisChildMetrics.from_url(settings.redis.url,
                                                     settings.redis.key_prefix),
            pools=RedisPoolStore.from_url(settings.redis.url, settings.redis.key_prefix)))
        callback_store = CallbackStore.from_url(settings.redis.url, settings.redis.key_prefix)
        callbacks = CallbackWaits(callback_store, bus)
        # Nested executions start through the service, as the API starts executions.
        service = StepFunctionsService(records, settings, CeleryPublisher(settings, app),
                                       callbacks=callback_store)
        nested = NestedExecutions(service, records, callbacks)
        self.parents = ParentRunner(self.coordinator, records, bus, callbacks, nested)


def register(app: Celery, settings: Settings) -> None:
    """Register the control tasks on ``app``."""
    holder: dict[str, Runtime] = {}

    def rt() -> Runtime:
        if "rt" not in holder:
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

    @signals.worker_ready.connect(weak=False)
    def _start_reconciler(**_: Any) -> None:  # pragma: no cover - runs in the worker
        # A timer in the worker's main process asks for a pass every interval (one pass per
        # interval runs: the reconcile lease). It replaced a chain of tasks that each sent the
        # next one: a send that failed while Redis restarted ended the chain, and with it the
        # reconciler, until the control worker restarted (tests/e2e/test_pause_and_admission).
        threading.Thread(target=_reconcile_timer, args=(app, settings), daemon=True,
                         name="stepmap-reconcile-timer").start()


def _reconcile_timer(app: Celery, settings: Settings) -> None:  # pragma: no cover - worker
    """Send a RECONCILE task every :data:`RECONCILE_EVERY` seconds, riding out broker outages."""
    while True:
        try:
            app.send_task(messages.RECONCILE, queue=settings.celery.control_queue)
        except Exception:  # noqa: BLE001 - the broker is down: try again next interval
            log.warning("could not ask for a reconcile pass (broker unreachable?)", exc_info=True)
        time.sleep(RECONCILE_EVERY)

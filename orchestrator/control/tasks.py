"""Thin control-plane tasks: decode, call the coordinator or the parent runner."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import redis
from celery import Celery, signals

from orchestrator import messages
from orchestrator.asl import StatesError
from orchestrator.control.parent import ParentRunner
from orchestrator.maprun import completion, dispatcher
from orchestrator.maprun.context import MapRunContext
from orchestrator.maprun.feeder import Feeder
from orchestrator.settings import Settings

log = logging.getLogger(__name__)

RECONCILE_EVERY = 5.0


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint."""
    return boto3.client(
        "s3", endpoint_url=settings.s3.endpoint_url, region_name=settings.s3.region,
        aws_access_key_id=settings.s3.access_key_id.get_secret_value(),
        aws_secret_access_key=settings.s3.secret_access_key.get_secret_value(),
    )


class Runtime:
    """Per-process singletons of the control worker."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        from orchestrator.store.redis_store import RedisStore
        from orchestrator.store.keys import Keys

        client = redis.Redis.from_url(settings.redis.url)
        self.ctx = MapRunContext(settings=settings, redis=client, send_task=app.send_task,
                                 s3_factory=lambda: s3_client(settings))
        self.store = RedisStore(client, Keys(settings.redis.key_prefix))
        self.parents = ParentRunner(self.ctx, self.store)


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

    @app.task(name=messages.TASK_DONE, acks_late=True)
    def task_done(report: dict[str, Any]) -> None:
        rt().parents.task_done(messages.TaskReport.model_validate(report))

    @app.task(name=messages.STOP_EXECUTION, acks_late=True)
    def stop_execution(arn: str) -> None:
        ctx = rt().ctx
        for map_run_arn in ctx.store.list_for_execution(arn):
            rec = ctx.store.get(map_run_arn)
            if rec and rec["status"] in ("RUNNING", "CLOSING"):
                from orchestrator.maprun import finalizer

                finalizer.finish(ctx, map_run_arn, "ABORTED", None, None)

    @app.task(name=messages.REDRIVE_EXECUTION, acks_late=True)
    def redrive_execution(arn: str) -> None:
        rt().parents.redrive(arn)

    @app.task(name=messages.MAP_RUN_FEED, acks_late=True)
    def map_run_feed(arn: str) -> None:
        ctx = rt().ctx
        try:
            Feeder(ctx, arn).run()
        except StatesError as exc:
            completion.fail(ctx, arn, exc.error, exc.cause)
            return
        completion.after_progress(ctx, arn)

    @app.task(name=messages.MAP_RUN_DISPATCH, acks_late=True)
    def map_run_dispatch(arn: str) -> None:
        dispatcher.dispatch(rt().ctx, arn)

    def host_suspended(report: messages.ChildrenReport) -> None:
        for outcome in report.outcomes:
            if outcome.status == "SUSPENDED":
                rt().parents.host_child(report.map_run_arn, outcome)

    @app.task(name=messages.CHILDREN_DONE, acks_late=True)
    def children_done(report: dict[str, Any]) -> None:
        decoded = messages.ChildrenReport.model_validate(report)
        host_suspended(decoded)
        completion.children_done(rt().ctx, decoded)

    @app.task(name=messages.CLOSE_SEGMENT, acks_late=True)
    def close_segment(parts: list[Any], arn: str, segment: str) -> None:
        completion.close_segment(rt().ctx, arn, segment)

    @app.task(name=messages.RECONCILE, acks_late=True)
    def reconcile() -> None:
        ctx = rt().ctx
        try:
            if ctx.redis.set(ctx.keys.reconcile_lock(), "1", nx=True, px=int(RECONCILE_EVERY * 800)):
                overdue = 2 * settings.limits.lease_seconds
                for arn in ctx.store.open_runs():
                    try:
                        completion.close_overdue_segments(ctx, arn, older_than=overdue)
                        completion.after_progress(ctx, arn)
                        # Reclaims expired leases even when nothing is queued.
                        dispatcher.dispatch(ctx, arn)
                    except Exception:  # noqa: BLE001 - one bad run must not stop the others
                        log.exception("reconcile failed for %s", arn)
        finally:
            ctx.send_control(messages.RECONCILE, countdown=RECONCILE_EVERY)

    @signals.worker_ready.connect(weak=False)
    def _start_reconciler(**_: Any) -> None:  # pragma: no cover - runs in the worker
        app.send_task(messages.RECONCILE, queue=settings.celery.control_queue)

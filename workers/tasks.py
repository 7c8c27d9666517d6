"""Thin Celery tasks: decode the message, call the runner, return the result envelope."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kombu.exceptions import OperationalError

from celery import Celery, signals

from orchestrator import messages
from orchestrator.asl import StatesError, TaskRequest
from orchestrator.renewal import Renewal
from orchestrator.settings import Settings
from workers.handlers.registry import load_handler_modules
from orchestrator.s3client import s3_client
from workers.integrations import WorkerIntegrations
from workers.ledger import RedisLedger
from workers.pool_leases import PoolLeases
from workers.runner import ChildRunner

log = logging.getLogger(__name__)

#: Longest pause between two attempts to send a report.
MAX_BACKOFF = 2.0


def until_sent(send: Callable[[], object]) -> None:
    """Call ``send`` until the broker takes the message (it is down while Redis restarts)."""
    delay = 0.1
    while True:
        try:
            send()
            return
        except (OperationalError, ConnectionError):
            log.warning("the broker does not take the report; retrying", exc_info=True)
            time.sleep(delay)
            delay = min(MAX_BACKOFF, delay * 2)


def register(app: Celery, settings: Settings) -> None:
    """Register the data-plane tasks on ``app``."""
    state: dict[str, Any] = {}

    def runner() -> ChildRunner:
        if "runner" not in state:
            load_handler_modules(settings.handler_modules)
            state["runner"] = ChildRunner(
                RedisLedger.from_url(settings.redis.url),
                payload_limit=settings.limits.payload_bytes,
                region=settings.api.region, account_id=settings.api.account_id,
                integrations=WorkerIntegrations.from_settings(settings),
                s3_factory=lambda: s3_client(settings),
            )
        result: ChildRunner = state["runner"]
        return result

    @signals.task_received.connect(weak=False)
    def _received(request: Any = None, **_: Any) -> None:  # pragma: no cover - in the worker
        # A worker that takes a message starts its children's leases at once (the claim
        # follows when the message starts). Had its process been killed in between, the
        # parked permits would wait out the broker's visibility timeout (an hour); now they
        # lapse after one lease and are dispatched again (docs/architecture.md invariant 10).
        if request is None or getattr(request, "name", None) != messages.RUN_CHILDREN:
            return
        try:
            batch = messages.decode(messages.ChildBatch, request.args[0])
            if "ledger" not in state:
                state["ledger"] = RedisLedger.from_url(settings.redis.url)
            holders = [c.holder for c in batch.children]
            state["ledger"].start_leases(batch, holders, int(time.time() * 1000) + batch.lease_ms)
        except Exception:  # noqa: BLE001 - a shortcut: the claim at the start still holds
            log.warning("could not start the leases of a received message", exc_info=True)

    @signals.worker_ready.connect(weak=False)
    def _renew_from_main(**_: Any) -> None:  # pragma: no cover - runs in the worker
        # The main process renews the permits of what its pool runs: a handler holding the
        # GIL in a pool process cannot starve it (workers/pool_leases.py).
        from celery.worker import state as worker_state

        if "ledger" not in state:
            state["ledger"] = RedisLedger.from_url(settings.redis.url)
        leases = PoolLeases(state["ledger"], lambda: worker_state.active_requests)
        state["pool_leases"] = Renewal(leases.renew_now, settings.limits.lease_seconds / 3,
                                       "pool-permits").__enter__()

    @signals.worker_process_init.connect(weak=False)
    def _warm(**_: Any) -> None:  # pragma: no cover - runs in pool processes
        runner()

    @app.task(name=messages.RUN_CHILDREN, acks_late=True, reject_on_worker_lost=True)
    def run_children(payload: str | dict[str, Any]) -> None:
        batch = messages.decode(messages.ChildBatch, payload)
        report = runner().run(batch)
        # The full report (outputs, histories) travels once, as a completion message; the
        # chord only counts that the message is done (the segment's books come from the child
        # records), so the task returns nothing: a result to store, repr and log per message
        # cost a tenth of a batch-1 child.
        # Sent until the broker takes it: a report lost while Redis restarts would leave its
        # children to the outbox at best, to a second run at worst.
        # Fields at their defaults left out (no error, no history, not skipped...): about a
        # third of an EXPRESS child's bytes through the broker and both JSON layers.
        body = report.model_dump_json(exclude_defaults=True)
        short = messages.argsrepr("report", batch.map_run_arn, len(report.outcomes))
        until_sent(lambda: app.send_task(messages.CHILDREN_DONE, args=[body], argsrepr=short,
                                         queue=settings.celery.control_queue))

    @app.task(name=messages.NOOP, acks_late=True)
    def noop(payload: Any = None) -> None:
        return None

    @app.task(name=messages.INVOKE_TASK, acks_late=True, reject_on_worker_lost=True)
    def invoke_task(payload: dict[str, Any]) -> dict[str, Any]:
        invocation = messages.TaskInvocation.model_validate(payload)
        invoker = runner().invoker  # loading the runner loads the handler modules
        try:
            result = invoker.invoke(TaskRequest.from_dict(invocation.request))
            report = messages.TaskReport(execution_arn=invocation.execution_arn,
                                         sequence=invocation.sequence, ok=True, result=result)
        except StatesError as exc:
            report = messages.TaskReport(execution_arn=invocation.execution_arn,
                                         sequence=invocation.sequence, ok=False,
                                         error=exc.error, cause=exc.cause)
        return report.model_dump()

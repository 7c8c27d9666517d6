"""The coordinator's :class:`~orchestrator.maprun.deps.Bus` and the parent's sends, on Celery."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Celery, chord, signature

from orchestrator import messages
from orchestrator.settings import Settings

log = logging.getLogger(__name__)


class CeleryBus:
    """Sends control tasks, chord segments of children and parent Task invocations."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None:
        """Send a control-plane task by name."""
        self.app.send_task(name, args=list(args), queue=self.settings.celery.control_queue,
                           countdown=countdown)

    def send_segment(self, batches: Sequence[messages.ChildBatch], map_run_arn: str,
                     segment: str) -> None:
        """One chord: a ``run_children`` message per batch, closed by ``close_segment``."""
        header = [signature(messages.RUN_CHILDREN, args=[b.model_dump_json()],
                            argsrepr=messages.argsrepr("batch", map_run_arn, len(b.children)),
                            queue=self.settings.celery.children_queue) for b in batches]
        body = signature(messages.CLOSE_SEGMENT, args=[map_run_arn, segment],
                         queue=self.settings.celery.control_queue)
        chord(header, body).apply_async()

    def children_waiting(self) -> int | None:
        """Messages waiting in the children queue, as the broker counts them."""
        try:
            with self.app.connection_for_read() as conn:
                # Not passive: on Redis an empty queue does not exist, and a passive declare
                # of it fails; declaring it creates nothing there.
                declared = conn.default_channel.queue_declare(
                    queue=self.settings.celery.children_queue)
            return int(declared.message_count)
        except Exception:  # noqa: BLE001 - not declared yet, broker down: unknown
            log.debug("could not count the children queue", exc_info=True)
            return None

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None:
        """Run a parent's Task on a worker; its result comes back as ``task_done``."""
        signature(
            messages.INVOKE_TASK, args=[invocation.model_dump(mode="json")],
            queue=self.settings.celery.children_queue,
            link=signature(messages.TASK_DONE, queue=self.settings.celery.control_queue),
        ).apply_async()


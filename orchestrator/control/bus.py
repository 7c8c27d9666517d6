"""The coordinator's :class:`~orchestrator.maprun.deps.Bus` and the parent's sends, on Celery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery, chord, signature

from orchestrator import messages
from orchestrator.settings import Settings


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
        """One chord: a ``run_children`` message per batch, closed by ``close_segment``.

        Each message names its children in ``argsrepr`` (what Flower and the logs show):
        otherwise Celery builds a ``saferepr`` of the whole payload, up to 256 KiB of input
        per child, on every send.
        """
        header = [signature(messages.RUN_CHILDREN, args=[b.model_dump(mode="json")],
                            queue=self.settings.celery.children_queue,
                            argsrepr=_children_repr(b), kwargsrepr="{}") for b in batches]
        body = signature(messages.CLOSE_SEGMENT, args=[map_run_arn, segment],
                         queue=self.settings.celery.control_queue)
        chord(header, body).apply_async()

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None:
        """Run a parent's Task on a worker; its result comes back as ``task_done``."""
        signature(
            messages.INVOKE_TASK, args=[invocation.model_dump(mode="json")],
            queue=self.settings.celery.children_queue,
            link=signature(messages.TASK_DONE, queue=self.settings.celery.control_queue),
        ).apply_async()


def _children_repr(batch: messages.ChildBatch) -> str:
    """A short ``argsrepr`` of a ``run_children`` message: its Map Run and child indexes."""
    indexes = [child.index for child in batch.children]
    shown = f"{indexes[0]}..{indexes[-1]}" if len(indexes) > 2 else ",".join(map(str, indexes))
    return f"[{batch.map_run_arn} segment {batch.segment} children {shown}]"

"""The coordinator's :class:`~orchestrator.maprun.deps.Bus` and the parent's sends, on Celery."""

from __future__ import annotations

import json
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
        # Without the fields at their defaults (a child's weight 1, redrive 0): fewer bytes
        # through the broker and both JSON layers per child.
        header = [signature(messages.RUN_CHILDREN,
                            args=[b.model_dump_json(exclude_defaults=True)],
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

    def children_reserved(self, before: float) -> list[str | dict[str, Any]]:
        """Payloads of the children messages a worker took before ``before`` and never acked.

        Read from the Redis transport's unacked set (``unacked_index`` scored by the epoch
        second a consumer reserved the message, ``unacked`` holding the message itself); a
        broker without one, or one that does not answer, gives none.
        """
        try:
            with self.app.connection_for_read() as conn:
                channel = conn.default_channel
                index_key = getattr(channel, "unacked_index_key", None)
                if index_key is None:
                    return []
                client = channel.client
                tags = client.zrangebyscore(index_key, 0, before)
                raws = client.hmget(channel.unacked_key, tags) if tags else []
                payloads: list[str | dict[str, Any]] = []
                for raw in raws:
                    if raw is None:  # acked meanwhile
                        continue
                    message = json.loads(raw)[0]
                    if message.get("headers", {}).get("task") != messages.RUN_CHILDREN:
                        continue
                    args = channel.Message(message, channel=channel).decode()[0]
                    payloads.append(args[0])
                return payloads
        except Exception:  # noqa: BLE001 - broker down, a message of another shape: none
            log.debug("could not read the broker's unacked children messages", exc_info=True)
            return []

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None:
        """Run a parent's Task on a worker; its result comes back as ``task_done``."""
        signature(
            messages.INVOKE_TASK, args=[invocation.model_dump(mode="json")],
            queue=self.settings.celery.children_queue,
            link=signature(messages.TASK_DONE, queue=self.settings.celery.control_queue),
        ).apply_async()


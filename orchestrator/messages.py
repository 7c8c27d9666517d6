"""The wire contract between the control plane and the workers.

Celery task names are explicit, stable strings (they are protocol and what Flower shows); the
payloads are pydantic models serialised to JSON. Bump :data:`SCHEMA_VERSION` on any
incompatible change. Both sides build their Celery app from :func:`celery_config`, so the two
apps agree on serialisation, acknowledgement and routing.

Besides the messages, a worker reads and writes a few things of the Map Run it works for,
always through one protocol, :class:`ChildLedger` (implemented once, in ``workers/ledger.py``):
child statuses and the Map Run's status (read), permit renewal, the outbox of outcomes written
the moment a child ends, and the redrive journal of failed STANDARD children. The keys it uses
travel in the :class:`ChildBatch`; their templates live in ``orchestrator/store/keys.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.resources import runs_in_control_plane
from orchestrator.statuses import ChildStatus

SCHEMA_VERSION = 2

# Control plane (queue: settings.celery.control_queue).
ADVANCE_EXECUTION = "stepmap.control.advance_execution"
STOP_EXECUTION = "stepmap.control.stop_execution"
REDRIVE_EXECUTION = "stepmap.control.redrive_execution"
MAP_RUN_FEED = "stepmap.control.map_run_feed"
MAP_RUN_DISPATCH = "stepmap.control.map_run_dispatch"
#: Stream the ended children's result records into the result files (ResultWriter).
MAP_RUN_WRITE = "stepmap.control.map_run_write"
CHILDREN_DONE = "stepmap.control.children_done"
CLOSE_SEGMENT = "stepmap.control.close_segment"
TASK_DONE = "stepmap.control.task_done"
RECONCILE = "stepmap.control.reconcile"
#: Seconds between reconcile passes (the control worker sends a RECONCILE every interval).
RECONCILE_EVERY = 5.0
#: A task token's timer (TimeoutSeconds / HeartbeatSeconds) is due; arg: the token.
CALLBACK_TIMER = "stepmap.control.callback_timer"

# Data plane (queue: settings.celery.children_queue).
RUN_CHILDREN = "stepmap.children.run_children"
INVOKE_TASK = "stepmap.children.invoke_task"
#: Does nothing; the benchmark's plain-Celery baseline (a ``group`` of these).
NOOP = "stepmap.children.noop"

#: The integration pattern suffix of a callback Task (the task token is in ``$$.Task.Token``).
WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"
_ACTIVITY_ARN = re.compile(r"arn:aws:states:[a-z0-9-]+:\d{12}:activity:[^:]+")


def is_activity_resource(resource: str) -> bool:
    """Whether a Task ``Resource`` names an activity (``arn:aws:states:...:activity:name``)."""
    return _ACTIVITY_ARN.fullmatch(resource) is not None


def waits_for_answer(resource: str) -> bool:
    """Whether a Task with this resource waits for an answer the control plane stores.

    A token (SendTaskSuccess/Failure), an activity worker, or a nested execution
    (``states:startExecution``, started by the control plane; ``.sync`` waits for its end).
    Such a Task never waits in a worker: a Map Run child that reaches one is handed over to
    the control plane, where the answer lives in Redis (``orchestrator/store/callbacks.py``).
    """
    return (resource.endswith(WAIT_FOR_TASK_TOKEN) or is_activity_resource(resource)
            or runs_in_control_plane(resource))


class Message(BaseModel):
    """A message model: parsed once per message, every value its own.

    pydantic's JSON parser caches the strings it reads (16,384 per process): child names,
    holders, inputs and outputs are each read once, so the cache only held them in memory, a
    long Map Run's control process about a MiB more than a short one's
    (tests/unit/test_message_memory.py). Field names repeat in every message and stay cached.
    """

    model_config = ConfigDict(cache_strings="keys")


class ChildWork(Message):
    """One child execution carried by a :class:`ChildBatch` message."""

    index: int = Field(description="Child index in the Map Run (batch index with ItemBatcher).")
    name: str = Field(description="Child execution name (a UUID string).")
    holder: str = Field(description="Concurrency permit holder id of this dispatch attempt.")
    input: str = Field(description="Child input as JSON text, or a byte range of the Map Run's "
                       "CSV object that the worker reads (``orchestrator/readers/ranges.py``).")
    items: int = Field(1, description="Items this child carries (its weight in itemCounts).")


class ChildBatch(Message):
    """Several child executions in one broker message; each stays its own execution."""

    v: int = SCHEMA_VERSION
    map_run_arn: str
    segment: str = Field(description="Chord segment id.")
    state_machine_arn: str = Field(description="The labelled state machine ARN of the children.")
    execution_prefix: str = Field(description="Child ARN = execution_prefix + name.")
    processor_key: str = Field(description="Redis key holding the ItemProcessor definition JSON.")
    processor_hash: str = Field(description="Content hash of that definition (worker cache key).")
    execution_type: Literal["STANDARD", "EXPRESS"]
    semaphore_key: str = Field(description="Redis key of the Map Run's permit zset (lease renewal).")
    status_key: str = Field(description="Redis key of the children's terminal statuses (read-only).")
    control_key: str = Field(description="Redis key of the Map Run record (read: aborted?).")
    outbox_key: str = Field(description="Redis key of the Map Run's outbox (ChildLedger.report_early).")
    journal_key: str = Field(description="Redis key of the redrive journals (ChildLedger.keep_journal).")
    claims_key: str = Field(description="Redis key of the permits' claims (ChildLedger.claim).")
    inputs_key: str = Field("", description="Redis key of the child inputs "
                            "(ChildLedger.keep_inputs: range children's resolved inputs).")
    lease_ms: int
    redrive_count: int = 0
    children: list[ChildWork]


class ChildOutcome(Message):
    """What happened to one child execution."""

    index: int
    name: str
    holder: str
    status: ChildStatus
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = Field(
        0, description="The Map Run's redrive this child ran in (0: its first run)."
    )
    start: float = Field(description="Start time, epoch seconds.")
    stop: float = Field(description="Stop time, epoch seconds.")
    history: list[dict[str, Any]] | None = Field(
        None, description="History events (STANDARD children only)."
    )
    skipped: bool = Field(
        False, description="Not run: already succeeded before, or the Map Run was aborted."
    )
    reader_failed: bool = Field(
        False, description="FAILED before it ran: its worker could not read the child's byte "
        "range (States.ItemReaderFailed); the Map Run fails with this error and cause.",
    )
    checkpoint: dict[str, Any] | None = Field(
        None,
        description="SUSPENDED only: the engine checkpoint of a child that reached a nested "
        "Distributed Map; the control plane hosts it from there.",
    )


class ChildrenReport(Message):
    """Outcomes of one ``run_children`` message, sent as a ``children_done`` message."""

    v: int = SCHEMA_VERSION
    map_run_arn: str
    segment: str
    outcomes: list[ChildOutcome]



class TaskInvocation(Message):
    """A Task state of a parent execution, run on a worker."""

    v: int = SCHEMA_VERSION
    execution_arn: str
    sequence: int = Field(description="Journal position of the pending call (idempotency key).")
    request: dict[str, Any] = Field(description="orchestrator.asl TaskRequest.to_dict().")


class TaskReport(Message):
    """Result of a :class:`TaskInvocation`."""

    v: int = SCHEMA_VERSION
    execution_arn: str
    sequence: int
    ok: bool
    result: Any = None
    error: str | None = None
    cause: str | None = None


class QueueSettings(Protocol):
    """The ``celery`` settings group of the orchestrator's and the workers' settings."""

    control_queue: str
    children_queue: str
    visibility_timeout: int


M = TypeVar("M", bound=BaseModel)


def decode(model: type[M], payload: str | dict[str, Any]) -> M:
    """A message argument as ``model``: JSON text (how batches and reports travel) or a dict.

    ``run_children`` batches and ``children_done`` reports travel as one JSON string each, so
    the broker's JSON layer handles one string instead of a dict per child and per history
    event, and pydantic parses the text in one call. Dicts (messages sent by an earlier
    version) are still accepted.
    """
    if isinstance(payload, str):
        return model.model_validate_json(payload)
    return model.model_validate(payload)


def argsrepr(name: str, subject: str, children: int) -> str:
    """The short ``argsrepr`` of a batch or report message: Celery's own repr walks the body."""
    return f"<{name} of {children} children of {subject}>"


def celery_config(broker_url: str, queues: QueueSettings) -> dict[str, Any]:
    """The Celery configuration both apps use (``queues``: the settings' ``celery`` group).

    Children ack late and are rejected back to the queue when their worker dies, with a
    prefetch of one, so that a killed worker loses nothing and does not hoard messages.
    """
    return {
        "broker_url": broker_url,
        "result_backend": broker_url,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": queues.control_queue,
        "task_routes": {
            "stepmap.control.*": {"queue": queues.control_queue},
            "stepmap.children.*": {"queue": queues.children_queue},
        },
        "broker_transport_options": {"visibility_timeout": queues.visibility_timeout},
        "result_backend_transport_options": {"visibility_timeout": queues.visibility_timeout},
        "result_expires": 24 * 3600,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
        "task_track_started": False,
        # Task events cost a third of a child worker's CPU at batch 1; workers that Flower
        # watches turn them on with --task-events (stepmap worker / stepmap dev --flower).
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }




class ChildLedger(Protocol):
    """The workers' side of the Map Run store: everything a child runner reads or writes.

    Implemented once for Redis (``workers/ledger.py``) and once in memory
    (``orchestrator/store/maprun_memory.py``) for unit tests. Journal writes are best effort
    (a lost one only costs a shortcut); the claim and the outbox wait for the store.
    """

    def processor(self, batch: ChildBatch) -> str | None:
        """The ItemProcessor definition (JSON) the batch names."""
        ...

    def map_run_status(self, batch: ChildBatch) -> str | None:
        """The Map Run's status (children do not start once it failed or was aborted)."""
        ...

    def statuses(self, batch: ChildBatch) -> list[str | None]:
        """Recorded terminal statuses of the batch's children (``None``: not recorded)."""
        ...

    def journals(self, batch: ChildBatch) -> list[str | None]:
        """Redrive journals (JSON) of the batch's children."""
        ...

    def renew(self, batch: ChildBatch, holders: Sequence[str], expiry_ms: int) -> None:
        """Extend the permits of ``holders`` that still exist."""
        ...

    def claim(self, batch: ChildBatch, holders: Sequence[str], token: str, now_ms: int,
              expiry_ms: int) -> list[int]:
        """Claim the permits of ``holders`` for one delivery (``token``) of the message.

        Starts their lease (until ``expiry_ms``). Per holder: 0 when its permit is gone
        (reclaimed) or claimed by another delivery that still renews it, so this delivery
        must not run that child (docs/architecture.md invariant 10); otherwise how many
        deliveries claimed the child in this redrive (1: its first start).
        """
        ...

    def report_early(self, batch: ChildBatch, outcomes: Sequence[ChildOutcome]) -> None:
        """Put ended children's outcomes in the outbox (one write), before their report travels.

        Retries until the store answers: an outcome is never dropped.
        """
        ...

    def keep_journal(self, batch: ChildBatch, index: int, point_json: str) -> None:
        """Keep a failed STANDARD child's redrive point."""
        ...

    def drop_journal(self, batch: ChildBatch, index: int) -> None:
        """Forget a redrive point once the child succeeded."""
        ...

    def keep_inputs(self, batch: ChildBatch, inputs: dict[int, str]) -> None:
        """Store range children's resolved inputs over their descriptors (one write), before
        they run (retries until the store answers: whoever reads an input later reads this)."""
        ...

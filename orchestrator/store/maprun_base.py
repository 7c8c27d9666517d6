"""The ``MapRunStore`` protocol: everything the Map Run coordinator persists.

One interface owns a Map Run's state: its record (:class:`~.maprun_record.MapRun`), counters,
the dispatch window (child inputs and the ready queue), the concurrency permits, the children's
terminal statuses and records, chord segments, the outbox of late reports, and the short leases
that keep one control process on one job (feeding, finalizing, advancing an execution, the
reconciler pass). Two implementations follow the same contract
(tests/integration/store/test_maprun_store_contract.py):
:class:`orchestrator.store.maprun_redis.RedisMapRunStore` (the Lua scripts in ``store/lua``)
and :class:`orchestrator.store.maprun_memory.MemoryMapRunStore` (unit tests).

Concurrency permits (docs/architecture.md invariant 1) are one concept with four verbs:
**grant** (:meth:`MapRunStore.grant`, under the Map Run's current limit), **renew** (by the
worker running the child, through its ledger, and :meth:`MapRunStore.renew_permits`),
**release** (recording the child's outcome releases its permit) and **reclaim** (an expired
permit is reclaimed by the next grant). A holder id is ``{child index}:{dispatch tag}``
(:func:`orchestrator.store.permits.holder`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from orchestrator.jsontext import dumps_stored, loads
from orchestrator.messages import ChildOutcome
from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.maprun_record import Closing, Counters, FeedState, MapRun
from orchestrator.store.result_stream import ResultStream


class Lease(StrEnum):
    """Jobs that one control process at a time does, each under a short, renewable lease."""

    FEED = "feed"
    FINALIZE = "finalize"
    #: Streaming result records into the result files while children run.
    WRITE = "write"
    ADVANCE = "advance"
    RECONCILE = "reconcile"


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """What the Map Run keeps of an ended child execution."""

    name: str
    status: ChildStatus
    start: float
    stop: float
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    #: The Map Run's redrive the child ran in: ListExecutions shows 0 for a child that a
    #: redrive did not run again.
    redrive_count: int = 0

    def to_json(self) -> str:
        """The persisted form (optional fields left out)."""
        data: dict[str, Any] = {"name": self.name, "status": self.status.value,
                                "start": self.start, "stop": self.stop}
        if self.output is not None:
            data["output"] = self.output
        if self.error is not None:
            data["error"] = self.error
            data["cause"] = self.cause or ""
        if self.redrive_count:
            data["redriveCount"] = self.redrive_count
        return dumps_stored(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> ChildRecord:
        """Inverse of :meth:`to_json`."""
        data = loads(text)
        return cls(name=data["name"], status=ChildStatus(data["status"]),
                   start=float(data["start"]), stop=float(data["stop"]),
                   output=data.get("output"), error=data.get("error"), cause=data.get("cause"),
                   redrive_count=int(data.get("redriveCount", 0)))

    @classmethod
    def of(cls, outcome: ChildOutcome) -> ChildRecord:
        """The record of a reported outcome."""
        return cls(name=outcome.name, status=outcome.status, start=outcome.start,
                   stop=outcome.stop, output=outcome.output, error=outcome.error,
                   cause=outcome.cause if outcome.error is not None else None,
                   redrive_count=outcome.redrive_count)


@dataclass(frozen=True, slots=True)
class ReadyChild:
    """A child input the feeder adds to the window (``items``: its weight in itemCounts)."""

    index: int
    name: str
    input_json: str
    items: int = 1


@dataclass(frozen=True, slots=True)
class FailedChild:
    """A child that failed before it could run (its item did not pass ItemSelector)."""

    index: int
    record: ChildRecord


@dataclass(frozen=True, slots=True)
class FeedChunk:
    """One atomic step of the feeder: new children and the reader state after them."""

    ready: Sequence[ReadyChild]
    failed: Sequence[FailedChild]
    feed: FeedState
    reader_done: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    """A permit granted to a ready child."""

    index: int
    holder: str
    input: str


@dataclass(frozen=True, slots=True)
class Grants:
    """What one :meth:`MapRunStore.grant` did.

    ``late`` lists ``(index, holder)`` of expired permits whose child already ended (its
    outcome waits in the outbox): their permits were renewed, for the caller to settle them.
    Rate limits and pools (the Map Run's ``itemsPerSecond``, ``childrenPerSecond`` and
    ``pools``) are applied in the same atomic step.
    """

    reclaimed: int
    late: list[tuple[int, str]]
    granted: list[Grant]
    #: A rate limit stopped the grant: try again in this many ms (0: no need; deduplicated
    #: across grants, so only one caller is told).
    retry_ms: int = 0
    #: Map Runs of a shared pool that wait below their fair share while this one could take
    #: more: dispatch them (docs/limits.md).
    wake: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """A terminal outcome to record (``history``: its events, STANDARD children only)."""

    index: int
    holder: str
    record: ChildRecord
    history: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A chord segment in flight: when it was sent and which children it carries."""

    sent_at: float
    indexes: list[int]


@dataclass(frozen=True, slots=True)
class LedgerKeys:
    """Where a worker's :class:`orchestrator.messages.ChildLedger` finds a Map Run's parts."""

    semaphore: str
    status: str
    control: str
    outbox: str
    journal: str
    claims: str
    inputs: str = ""


@dataclass(frozen=True, slots=True)
class AdmissionState:
    """The admission gate at one moment (stepmap extension, docs/extensions.md).

    ``open``: admitted Map Runs not closed yet; ``queued``: the backlog in admission order;
    ``limit_override``: the limit set live through the API (``None``: the
    ``limits.open_map_runs`` setting).
    """

    open: int
    queued: list[str]
    limit_override: int | None

    @property
    def backlog(self) -> int:
        """How many Map Runs wait."""
        return len(self.queued)

    def position(self, arn: str) -> int | None:
        """1-based admission place of a queued run (``None``: not queued)."""
        return self.queued.index(arn) + 1 if arn in self.queued else None


def admission_order(queues: Sequence[Sequence[str]]) -> list[str]:
    """The queued ARNs in the order admission takes them (``queues``: FIFOs in ring order).

    Admission takes the head of each queue in turn (round robin between admission keys).
    """
    out: list[str] = []
    depth = max((len(q) for q in queues), default=0)
    for rank in range(depth):
        out.extend(q[rank] for q in queues if rank < len(q))
    return out


class MapRunStore(Protocol):
    """Persistence of Map Runs (one implementation in Redis, one in memory)."""

    def processor_key(self, digest: str) -> str:
        """Where the ItemProcessor definition with content hash ``digest`` is kept."""
        ...

    def ledger_keys(self, arn: str) -> LedgerKeys:
        """The keys a worker's ledger uses for this Map Run (sent in each ChildBatch)."""
        ...

    # -- the run ---------------------------------------------------------------------------
    def create(self, run: MapRun, processor_json: str) -> None:
        """Store a new Map Run and its ItemProcessor definition; index it as open.

        A run created ``QUEUED`` goes to the back of its admission key's backlog queue instead
        of the open set (:meth:`admit` opens it).
        """
        ...

    def get(self, arn: str) -> MapRun | None:
        """The Map Run, or ``None``."""
        ...

    def status(self, arn: str) -> MapRunStatus | None:
        """Only the status (one cheap read)."""
        ...

    def update_limits(self, arn: str, *, max_concurrency: int | None = None,
                      limit: int | None = None, tolerated_failure_count: int | None = None,
                      tolerated_failure_percentage: float | None = None) -> None:
        """Change the limit and thresholds in force (``None`` keeps a value)."""
        ...

    def set_rates(self, arn: str, *, items_per_second: float | None,
                  children_per_second: float | None) -> None:
        """Set the Map Run's rate limits (stepmap extension; ``None`` removes one)."""
        ...

    def begin_closing(self, arn: str, closing: Closing) -> None:
        """Mark the Map Run CLOSING, remembering the status it will end with."""
        ...

    def finish(self, arn: str, status: MapRunStatus, *, stop_date: float,
               result: str | None = None, error: str | None = None,
               cause: str | None = None) -> None:
        """Close the Map Run: final status and outcome; it leaves the open set."""
        ...

    def redrive(self, arn: str, *, now: float) -> int:
        """Reopen a closed Map Run: unsuccessful children go back to the queue.

        The result-stream state is dropped: the redriven run writes its files again.

        Returns:
            The new redrive count.
        """
        ...

    def counters(self, arn: str) -> tuple[Counters, Counters]:
        """(item counters, execution counters)."""
        ...

    # -- pause and admission (stepmap extensions) ------------------------------------------
    def pause(self, arn: str, *, now: float) -> bool:
        """Pause an open (RUNNING or QUEUED) Map Run: no permit is granted until resumed.

        Returns:
            False when the run is not RUNNING or QUEUED (closing or closed); pausing a paused
            run keeps its first ``paused_at``.
        """
        ...

    def resume(self, arn: str, *, now: float) -> bool:
        """End the current pause (its length is added to ``paused_seconds``); False: none."""
        ...

    def admit(self, default_limit: int, *, now: float) -> list[str]:
        """Open queued Map Runs while fewer than the limit are open (0: no limit).

        The limit is the live override if one is set, else ``default_limit``. Round robin
        between admission keys, FIFO within one; admitted runs become RUNNING, with
        ``admitted_at`` taken in the admitting step itself (Redis: the server's clock), never
        before the stop of the run whose slot it takes.

        Returns:
            The ARNs admitted, in order.
        """
        ...

    def admission(self) -> AdmissionState:
        """Open count, the backlog in admission order and the live limit override."""
        ...

    def set_open_limit(self, limit: int | None) -> None:
        """Set the live open-Map-Run limit (``None``: back to the setting); it persists."""
        ...

    def list_for_execution(self, execution_arn: str) -> list[str]:
        """Map Run ARNs of an execution, oldest first."""
        ...

    def open_runs(self) -> list[str]:
        """ARNs of the Map Runs that have not closed (the reconciler's work list)."""
        ...

    def processor(self, key: str) -> str | None:
        """An ItemProcessor definition (JSON) by its key."""
        ...

    # -- feeding ---------------------------------------------------------------------------
    def queue_length(self, arn: str) -> int:
        """Children ready to dispatch."""
        ...

    def append_children(self, arn: str, chunk: FeedChunk) -> None:
        """Add children and the reader state after them, atomically."""
        ...

    # -- permits ---------------------------------------------------------------------------
    def grant(self, arn: str, *, now_ms: int, lease_ms: int, max_children: int, tag: str,
              max_bytes: int, burst_seconds: float = 0.1) -> Grants:
        """Reclaim expired permits, then grant free ones to ready children (one atomic step).

        No permit is granted once the Map Run is not RUNNING or its failures exceed the
        tolerated-failure threshold; at most ``max_bytes`` of inputs are returned (at least
        one child).
        """
        ...

    def renew_permits(self, arn: str, holders: Sequence[str], expiry_ms: int) -> int:
        """Extend permits that still exist (never resurrects a reclaimed one)."""
        ...

    def park_permits(self, arn: str, holders: Sequence[str], expiry_ms: int) -> int:
        """Give the permits of just-sent children that no worker claimed yet ``expiry_ms``.

        A permit's lease starts when a worker claims it (:meth:`ChildLedger.claim`); until then
        it is parked, so it does not lapse while its message waits in the queue.
        """
        ...

    def hold_permit(self, arn: str, holder: str, expiry_ms: int) -> None:
        """Hold a permit until ``expiry_ms`` (a child hosted by the control plane)."""
        ...

    def running_indexes(self, arn: str) -> list[int]:
        """Indexes of the children that hold a permit."""
        ...

    def parked_holders(self, arn: str, after_ms: int, until_ms: int) -> list[str]:
        """Holders of the permits expiring after ``after_ms`` and until ``until_ms``."""
        ...

    def abort_running(self, arn: str) -> list[int]:
        """Record every child holding a permit as ABORTED and drop all permits."""
        ...

    # -- outcomes --------------------------------------------------------------------------
    def record_outcomes(self, arn: str, outcomes: Sequence[RecordedOutcome]) -> list[int]:
        """Record terminal outcomes, first report wins; release their permits.

        The histories of newly recorded STANDARD children are kept under their execution ARNs.

        Returns:
            The indexes newly recorded (a duplicate report is ignored).
        """
        ...

    def late_outcomes(self, arn: str, indexes: Sequence[int]) -> list[ChildOutcome | None]:
        """Outcomes workers left in the outbox for ``indexes``."""
        ...

    # -- segments --------------------------------------------------------------------------
    def add_segment(self, arn: str, segment: str, segment_info: Segment) -> None:
        """Remember a chord segment in flight."""
        ...

    def segments(self, arn: str) -> dict[str, Segment]:
        """The chord segments in flight."""
        ...

    def remove_segment(self, arn: str, segment: str) -> None:
        """Forget a closed chord segment."""
        ...

    # -- children --------------------------------------------------------------------------
    def child_statuses(self, arn: str, indexes: Sequence[int]) -> list[ChildStatus | None]:
        """Terminal statuses (``None``: not ended)."""
        ...

    def child_records(self, arn: str, indexes: Sequence[int]) -> list[ChildRecord | None]:
        """Records of ended children."""
        ...

    def child_inputs(self, arn: str, indexes: Sequence[int]) -> list[str | None]:
        """Child inputs (JSON text)."""
        ...

    def child_weights(self, arn: str, indexes: Sequence[int]) -> list[int]:
        """Items each child carries."""
        ...

    def child_location(self, name: str) -> tuple[str, int] | None:
        """(Map Run ARN, index) of a child execution name."""
        ...

    def child_history(self, child_arn: str) -> list[dict[str, Any]]:
        """History events of a STANDARD child."""
        ...

    # -- result files streamed while children run -----------------------------------------
    def result_stream(self, arn: str) -> ResultStream | None:
        """The state of the Map Run's streamed result files (``None``: not started)."""
        ...

    def save_result_stream(self, arn: str, stream: ResultStream) -> None:
        """Store it (the holder of the write or finalize lease only). A redrive drops it."""
        ...

    # -- leases and parent task results ----------------------------------------------------
    def acquire_lease(self, lease: Lease, subject: str, token: str, ttl_ms: int) -> bool:
        """Take the lease unless someone holds it."""
        ...

    def renew_lease(self, lease: Lease, subject: str, token: str, ttl_ms: int) -> bool:
        """Extend the lease if ``token`` still holds it."""
        ...

    def release_lease(self, lease: Lease, subject: str, token: str) -> None:
        """Give the lease up if ``token`` holds it."""
        ...

    def lease_held(self, lease: Lease, subject: str) -> bool:
        """Whether anyone holds the lease."""
        ...

    def begin_advance(self, execution_arn: str) -> int:
        """Count an advance of a parent that starts; returns how many started unfinished.

        :meth:`end_advance` clears the count when an advance ends (also with an exception),
        so a count above 1 means earlier advances died with their process.
        """
        ...

    def end_advance(self, execution_arn: str) -> None:
        """An advance of the parent ended in its process (not killed)."""
        ...

    def put_task_result(self, execution_arn: str, sequence: int, report_json: str) -> None:
        """Keep the result of a parent's Task run on a worker."""
        ...

    def get_task_result(self, execution_arn: str, sequence: int) -> str | None:
        """The result of a parent's Task, if it arrived."""
        ...

    def forget_task_result(self, execution_arn: str, sequence: int) -> None:
        """Drop the result of a parent's Task call that a redrive makes again."""
        ...

    def mark_task_sent(self, execution_arn: str, sequence: int, redrive: int) -> None:
        """Note that a parent's Task call was handed to the broker in redrive ``redrive``."""
        ...

    def task_sent(self, execution_arn: str, sequence: int) -> int | None:
        """The redrive in which a parent's Task call was last handed to the broker, if any.

        A control process that died between saving the parent's checkpoint and sending the
        call left no mark: whoever advances the execution next sends it.
        """
        ...

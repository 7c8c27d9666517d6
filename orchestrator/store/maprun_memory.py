"""In-memory :class:`~orchestrator.store.maprun_base.MapRunStore`, for fast unit tests.

It follows the same contract as the Redis store (tests/integration/store/
test_maprun_store_contract.py): the Lua scripts' rules are written out here in Python, and
one lock makes every method atomic. :meth:`MemoryMapRunStore.ledger` gives the worker's side
(:class:`orchestrator.messages.ChildLedger`) over the same state, so the child runner can be
tested against it too. Time comes from an injected clock (epoch seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.messages import ChildBatch, ChildOutcome
from orchestrator.statuses import UNSUCCESSFUL, ChildStatus, MapRunStatus
from orchestrator.store.maprun_base import (
    AdmissionState,
    ChildRecord,
    FeedChunk,
    Grant,
    Grants,
    Lease,
    LedgerKeys,
    RecordedOutcome,
    Segment,
    admission_order,
)
from orchestrator.store.maprun_record import Closing, Counters, MapRun
from orchestrator.store.result_stream import ResultStream
from orchestrator.store.permits import holder as holder_id
from orchestrator.store.permits import index_of


@dataclass
class _Run:
    record: MapRun
    counters: dict[str, int] = field(default_factory=dict)
    inputs: dict[int, str] = field(default_factory=dict)
    weights: dict[int, int] = field(default_factory=dict)
    status: dict[int, ChildStatus] = field(default_factory=dict)
    children: dict[int, ChildRecord] = field(default_factory=dict)
    queue: set[int] = field(default_factory=set)
    permits: dict[str, int] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    outbox: dict[int, str] = field(default_factory=dict)
    journals: dict[int, str] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    #: Children whose late record absorbed their second permit (record_outcomes.lua's marks).
    absorbed: set[int] = field(default_factory=set)

    def bump(self, name: str, by: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + by

    def weight(self, index: int) -> int:
        return self.weights.get(index, 1)


class MemoryMapRunStore:
    """A :class:`MapRunStore` in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._runs: dict[str, _Run] = {}
        self._by_execution: dict[str, list[str]] = {}
        self._open: dict[str, float] = {}
        self._processors: dict[str, str] = {}
        self._advancing: dict[str, int] = {}
        self._locations: dict[str, tuple[str, int]] = {}
        self._histories: dict[str, list[dict[str, Any]]] = {}
        self._leases: dict[tuple[Lease, str], tuple[str, float]] = {}
        self._task_results: dict[tuple[str, int], str] = {}
        self._streams: dict[str, str] = {}
        # admission: key -> FIFO of queued ARNs; ring: key -> turn (lowest goes next)
        self._backlog: dict[str, list[str]] = {}
        self._ring: dict[str, float] = {}
        self._open_limit: int | None = None
        self._task_sent: dict[tuple[str, int], int] = {}

    def _run(self, arn: str) -> _Run:
        return self._runs[arn]

    def processor_key(self, digest: str) -> str:
        return f"proc:{digest}"

    def ledger_keys(self, arn: str) -> LedgerKeys:
        # Not keys here: the memory ledger finds the Map Run by the batch's ARN.
        return LedgerKeys(semaphore=f"{arn}:sem", status=f"{arn}:status", control=arn,
                          outbox=f"{arn}:outbox", journal=f"{arn}:journal",
                          claims=f"{arn}:claims", inputs=f"{arn}:inputs")

    # -- the run ---------------------------------------------------------------------------
    def create(self, run: MapRun, processor_json: str) -> None:
        with self._lock:
            self._processors[run.processor_key] = processor_json
            self._runs[run.arn] = _Run(record=run, counters={"i.total": 0, "e.total": 0})
            self._by_execution.setdefault(run.execution_arn, []).append(run.arn)
            if run.status is MapRunStatus.QUEUED:
                self._ring.setdefault(run.admission_key, run.start_date * 1000)
                self._backlog.setdefault(run.admission_key, []).append(run.arn)
            else:
                self._open[run.arn] = run.start_date

    def get(self, arn: str) -> MapRun | None:
        with self._lock:
            run = self._runs.get(arn)
            return run.record if run is not None else None

    def status(self, arn: str) -> MapRunStatus | None:
        record = self.get(arn)
        return record.status if record is not None else None

    def _change(self, arn: str, **changes: Any) -> None:
        run = self._runs.get(arn)
        if run is not None:
            run.record = run.record.replace(**changes)

    def update_limits(self, arn: str, *, max_concurrency: int | None = None,
                      limit: int | None = None, tolerated_failure_count: int | None = None,
                      tolerated_failure_percentage: float | None = None) -> None:
        changes = {"max_concurrency": max_concurrency, "limit": limit,
                   "tolerated_failure_count": tolerated_failure_count,
                   "tolerated_failure_percentage": tolerated_failure_percentage}
        with self._lock:
            self._change(arn, **{k: v for k, v in changes.items() if v is not None})

    def set_rates(self, arn: str, *, items_per_second: float | None,
                  children_per_second: float | None) -> None:
        # Stored only: this store's grant applies no rate and no pool (docs/limits.md).
        with self._lock:
            self._change(arn, items_per_second=items_per_second,
                         children_per_second=children_per_second)

    def begin_closing(self, arn: str, closing: Closing) -> None:
        with self._lock:
            self._change(arn, status=MapRunStatus.CLOSING, closing=closing)

    def finish(self, arn: str, status: MapRunStatus, *, stop_date: float,
               result: str | None = None, error: str | None = None,
               cause: str | None = None) -> None:
        changes: dict[str, Any] = {"status": status, "stop_date": stop_date}
        if result is not None:
            changes["result"] = result
        if error is not None:
            changes.update(error=error, cause=cause or "")
        with self._lock:
            self._change(arn, **changes)
            self._open.pop(arn, None)
            if arn in self._runs:
                self._runs[arn].segments.clear()
                queue = self._backlog.get(self._runs[arn].record.admission_key, [])
                if arn in queue:
                    queue.remove(arn)
                self._runs[arn].claims.clear()

    def redrive(self, arn: str, *, now: float) -> int:
        with self._lock:
            run = self._run(arn)
            again = sorted(i for i, st in run.status.items() if st in UNSUCCESSFUL)
            for index in again:
                del run.status[index]
                run.absorbed.discard(index)
                run.queue.add(index)
                run.bump("i.dispatched", -run.weight(index))
                run.bump("e.dispatched", -1)
            for kind in ("i", "e"):
                for status in UNSUCCESSFUL:
                    run.counters[f"{kind}.{status.value}"] = 0
            count = run.record.redrive_count + 1
            run.record = run.record.replace(
                status=MapRunStatus.RUNNING, redrive_count=count, redrive_date=now,
                stop_date=None, error=None, cause=None, closing=None, result=None)
            self._leases.pop((Lease.FINALIZE, arn), None)
            self._streams.pop(arn, None)
            run.claims.clear()
            self._open[arn] = now
            return count

    def counters(self, arn: str) -> tuple[Counters, Counters]:
        with self._lock:
            run = self._runs.get(arn)
            raw = {k: str(v) for k, v in run.counters.items()} if run else {}
        return Counters.from_hash(raw, "i"), Counters.from_hash(raw, "e")

    # -- pause and admission ---------------------------------------------------------------
    def pause(self, arn: str, *, now: float) -> bool:
        with self._lock:
            run = self._runs.get(arn)
            if run is None or run.record.status not in (MapRunStatus.RUNNING,
                                                        MapRunStatus.QUEUED):
                return False
            if run.record.paused_at is None:
                self._change(arn, paused_at=now)
            return True

    def resume(self, arn: str, *, now: float) -> bool:
        with self._lock:
            run = self._runs.get(arn)
            if run is None or run.record.paused_at is None:
                return False
            total = run.record.paused_seconds + max(0.0, now - run.record.paused_at)
            self._change(arn, paused_at=None, paused_seconds=round(total, 3))
            return True

    def admit(self, default_limit: int, *, now: float) -> list[str]:
        with self._lock:
            limit = self._open_limit if self._open_limit is not None else default_limit
            out: list[str] = []
            while (limit <= 0 or len(self._open) < limit) and self._ring:
                key = min(self._ring, key=lambda k: (self._ring[k], k))
                queue = self._backlog.get(key, [])
                arn = queue.pop(0) if queue else None
                if queue:
                    self._ring[key] = max(now * 1000, max(self._ring.values()) + 1)
                else:
                    del self._ring[key]
                    self._backlog.pop(key, None)
                run = self._runs.get(arn) if arn is not None else None
                if arn is None or run is None or run.record.status is not MapRunStatus.QUEUED:
                    continue
                self._change(arn, status=MapRunStatus.RUNNING, admitted_at=now)
                self._open[arn] = now
                out.append(arn)
            return out

    def _backlog_queues(self) -> list[list[str]]:
        ring = sorted(self._ring, key=lambda k: (self._ring[k], k))
        return [list(self._backlog.get(key, [])) for key in ring]

    def admission(self) -> AdmissionState:
        with self._lock:
            return AdmissionState(open=len(self._open),
                                  queued=admission_order(self._backlog_queues()),
                                  limit_override=self._open_limit)

    def set_open_limit(self, limit: int | None) -> None:
        with self._lock:
            self._open_limit = limit

    def list_for_execution(self, execution_arn: str) -> list[str]:
        with self._lock:
            return list(self._by_execution.get(execution_arn, []))

    def open_runs(self) -> list[str]:
        with self._lock:
            return sorted(self._open, key=lambda a: (self._open[a], a))

    def processor(self, key: str) -> str | None:
        with self._lock:
            return self._processors.get(key)

    # -- feeding ---------------------------------------------------------------------------
    def queue_length(self, arn: str) -> int:
        with self._lock:
            run = self._runs.get(arn)
            return len(run.queue) if run else 0

    def append_children(self, arn: str, chunk: FeedChunk) -> None:
        with self._lock:
            run = self._run(arn)
            items_total = 0
            for child in chunk.ready:
                run.inputs[child.index] = child.input_json
                if child.items != 1:
                    run.weights[child.index] = child.items
                run.queue.add(child.index)
                items_total += child.items
                self._locations[child.name] = (arn, child.index)
            for failed in chunk.failed:
                run.inputs[failed.index] = "null"
                run.status.setdefault(failed.index, failed.record.status)
                run.children[failed.index] = failed.record
                for kind in ("i", "e"):
                    run.bump(f"{kind}.{failed.record.status.value}", 1)
                    run.bump(f"{kind}.dispatched", 1)
                items_total += 1
                self._locations[failed.record.name] = (arn, failed.index)
            run.bump("i.total", items_total)
            run.bump("e.total", len(chunk.ready) + len(chunk.failed))
            changes: dict[str, Any] = {"feed": chunk.feed}
            if chunk.reader_done:
                changes["reader_done"] = True
            run.record = run.record.replace(**changes)

    # -- permits ---------------------------------------------------------------------------
    def grant(self, arn: str, *, now_ms: int, lease_ms: int, max_children: int, tag: str,
              max_bytes: int, burst_seconds: float = 0.1) -> Grants:
        with self._lock:
            run = self._run(arn)
            reclaimed = 0
            late: list[tuple[int, str]] = []
            expired = sorted((exp, h) for h, exp in run.permits.items() if exp <= now_ms)
            for _, holder in expired:
                del run.permits[holder]
            for _, holder in expired:
                index = index_of(holder)
                if index in run.status:
                    # an extra dispatch of a recorded child no longer counts as dispatched,
                    # unless the record absorbed it
                    if index in run.absorbed:
                        run.absorbed.discard(index)
                    else:
                        run.bump("i.dispatched", -run.weight(index))
                        run.bump("e.dispatched", -1)
                    continue
                if index in run.outbox:
                    run.permits[holder] = now_ms + lease_ms
                    late.append((index, holder))
                else:
                    run.queue.add(index)
                    run.bump("i.dispatched", -run.weight(index))
                    run.bump("e.dispatched", -1)
                    reclaimed += 1
            granted: list[Grant] = []
            if run.record.status is not MapRunStatus.RUNNING or run.record.paused \
                    or self._over_threshold(run):
                return Grants(reclaimed, late, granted)
            free = min(run.record.limit - len(run.permits), max_children)
            size = 0
            for index in sorted(run.queue)[:max(free, 0)]:
                text = run.inputs.get(index) if index not in run.status else None
                if text is not None and max_bytes > 0 and granted \
                        and size + len(text.encode()) > max_bytes:
                    break
                run.queue.discard(index)
                if text is not None:
                    holder = holder_id(index, tag)
                    run.permits[holder] = now_ms + lease_ms
                    run.bump("i.dispatched", run.weight(index))
                    run.bump("e.dispatched", 1)
                    granted.append(Grant(index, holder, text))
                    size += len(text.encode())
            return Grants(reclaimed, late, granted)

    @staticmethod
    def _over_threshold(run: _Run) -> bool:
        # The same rule as grant_permits.lua (and orchestrator.maprun.tolerance).
        bad = run.counters.get("i.FAILED", 0) + run.counters.get("i.TIMED_OUT", 0)
        if bad <= 0:
            return False
        count = run.record.tolerated_failure_count
        pct = run.record.tolerated_failure_percentage
        if count is None and pct is None:
            return True
        if count is not None and bad > count:
            return True
        total = run.counters.get("i.total", 0)
        return (pct is not None and run.record.reader_done and total > 0
                and bad * 100.0 > pct * total)

    def renew_permits(self, arn: str, holders: Sequence[str], expiry_ms: int) -> int:
        return self._extend(arn, holders, expiry_ms, unclaimed_only=False)

    def park_permits(self, arn: str, holders: Sequence[str], expiry_ms: int) -> int:
        return self._extend(arn, holders, expiry_ms, unclaimed_only=True)

    def _extend(self, arn: str, holders: Sequence[str], expiry_ms: int, *,
                unclaimed_only: bool) -> int:
        with self._lock:
            run = self._runs.get(arn)
            if run is None:
                return 0
            changed = 0
            for holder in holders:
                if holder in run.permits and run.permits[holder] != expiry_ms \
                        and not (unclaimed_only and holder in run.claims):
                    run.permits[holder] = expiry_ms
                    changed += 1
            return changed

    def hold_permit(self, arn: str, holder: str, expiry_ms: int) -> None:
        with self._lock:
            self._run(arn).permits[holder] = expiry_ms

    def parked_holders(self, arn: str, after_ms: int, until_ms: int) -> list[str]:
        with self._lock:
            run = self._runs.get(arn)
            return sorted(h for h, expiry in (run.permits.items() if run else ())
                          if after_ms < expiry <= until_ms)

    def running_indexes(self, arn: str) -> list[int]:
        with self._lock:
            run = self._runs.get(arn)
            return sorted({index_of(h) for h in run.permits}) if run else []

    def abort_running(self, arn: str) -> list[int]:
        with self._lock:
            run = self._run(arn)
            out: list[int] = []
            for holder in sorted(run.permits):
                index = index_of(holder)
                if index not in run.status:
                    run.status[index] = ChildStatus.ABORTED
                    run.bump("i.ABORTED", run.weight(index))
                    run.bump("e.ABORTED", 1)
                    out.append(index)
                elif index in run.absorbed:
                    run.absorbed.discard(index)
                else:
                    # an extra dispatch of a recorded child no longer counts as dispatched
                    run.bump("i.dispatched", -run.weight(index))
                    run.bump("e.dispatched", -1)
            run.permits.clear()
            return out

    # -- outcomes --------------------------------------------------------------------------
    def record_outcomes(self, arn: str, outcomes: Sequence[RecordedOutcome]) -> list[int]:
        with self._lock:
            run = self._run(arn)
            fresh: list[int] = []
            for o in outcomes:
                live = run.permits.pop(o.holder, None) is not None
                w = run.weight(o.index)
                status = o.record.status
                if o.index not in run.status:
                    run.status[o.index] = status
                    run.bump(f"i.{status.value}", w)
                    run.bump(f"e.{status.value}", 1)
                    run.children[o.index] = o.record
                    if status is ChildStatus.SUCCEEDED:
                        run.bump("i.resultsWritten", w)
                        run.bump("e.resultsWritten", 1)
                    if not live and o.index in run.queue:
                        # reclaimed, waiting in the queue: it counts as dispatched again
                        run.bump("i.dispatched", w)
                        run.bump("e.dispatched", 1)
                        run.queue.discard(o.index)
                    elif not live:
                        # reclaimed and dispatched again: that permit counts it
                        run.absorbed.add(o.index)
                    fresh.append(o.index)
                    if o.history:
                        child_arn = run.record.execution_prefix + o.record.name
                        self._histories.setdefault(child_arn, []).extend(o.history)
                elif live and run.status[o.index] is not ChildStatus.ABORTED:
                    if o.index in run.absorbed:
                        run.absorbed.discard(o.index)
                    else:
                        run.bump("i.dispatched", -w)
                        run.bump("e.dispatched", -1)
            for o in outcomes:
                run.outbox.pop(o.index, None)
            return fresh

    def late_outcomes(self, arn: str, indexes: Sequence[int]) -> list[ChildOutcome | None]:
        with self._lock:
            run = self._run(arn)
            raw = [run.outbox.get(i) for i in indexes]
        return [ChildOutcome.model_validate_json(t) if t is not None else None for t in raw]

    # -- segments --------------------------------------------------------------------------
    def add_segment(self, arn: str, segment: str, segment_info: Segment) -> None:
        with self._lock:
            self._run(arn).segments[segment] = segment_info

    def segments(self, arn: str) -> dict[str, Segment]:
        with self._lock:
            run = self._runs.get(arn)
            return dict(run.segments) if run else {}

    def remove_segment(self, arn: str, segment: str) -> None:
        with self._lock:
            run = self._runs.get(arn)
            if run is not None:
                run.segments.pop(segment, None)

    # -- children --------------------------------------------------------------------------
    def child_statuses(self, arn: str, indexes: Sequence[int]) -> list[ChildStatus | None]:
        with self._lock:
            run = self._runs.get(arn)
            return [run.status.get(i) if run else None for i in indexes]

    def child_records(self, arn: str, indexes: Sequence[int]) -> list[ChildRecord | None]:
        with self._lock:
            run = self._runs.get(arn)
            return [run.children.get(i) if run else None for i in indexes]

    def child_inputs(self, arn: str, indexes: Sequence[int]) -> list[str | None]:
        with self._lock:
            run = self._runs.get(arn)
            return [run.inputs.get(i) if run else None for i in indexes]

    def child_weights(self, arn: str, indexes: Sequence[int]) -> list[int]:
        with self._lock:
            run = self._runs.get(arn)
            return [run.weight(i) if run else 1 for i in indexes]

    def child_location(self, name: str) -> tuple[str, int] | None:
        with self._lock:
            return self._locations.get(name)

    def child_history(self, child_arn: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._histories.get(child_arn, [])]

    # -- result files streamed while children run -----------------------------------------
    def result_stream(self, arn: str) -> ResultStream | None:
        with self._lock:
            raw = self._streams.get(arn)
        return ResultStream.from_json(raw) if raw is not None else None

    def save_result_stream(self, arn: str, stream: ResultStream) -> None:
        with self._lock:
            self._streams[arn] = stream.to_json()

    # -- leases and parent task results ----------------------------------------------------
    def _live(self, lease: Lease, subject: str) -> tuple[str, float] | None:
        held = self._leases.get((lease, subject))
        if held is not None and held[1] <= self.clock():
            del self._leases[(lease, subject)]
            return None
        return held

    def acquire_lease(self, lease: Lease, subject: str, token: str, ttl_ms: int) -> bool:
        with self._lock:
            if self._live(lease, subject) is not None:
                return False
            self._leases[(lease, subject)] = (token, self.clock() + ttl_ms / 1000)
            return True

    def renew_lease(self, lease: Lease, subject: str, token: str, ttl_ms: int) -> bool:
        with self._lock:
            held = self._live(lease, subject)
            if held is None or held[0] != token:
                return False
            self._leases[(lease, subject)] = (token, self.clock() + ttl_ms / 1000)
            return True

    def release_lease(self, lease: Lease, subject: str, token: str) -> None:
        with self._lock:
            held = self._live(lease, subject)
            if held is not None and held[0] == token:
                del self._leases[(lease, subject)]

    def lease_held(self, lease: Lease, subject: str) -> bool:
        with self._lock:
            return self._live(lease, subject) is not None

    def begin_advance(self, execution_arn: str) -> int:
        with self._lock:
            self._advancing[execution_arn] = self._advancing.get(execution_arn, 0) + 1
            return self._advancing[execution_arn]

    def end_advance(self, execution_arn: str) -> None:
        with self._lock:
            self._advancing.pop(execution_arn, None)

    def put_task_result(self, execution_arn: str, sequence: int, report_json: str) -> None:
        with self._lock:
            self._task_results[(execution_arn, sequence)] = report_json

    def get_task_result(self, execution_arn: str, sequence: int) -> str | None:
        with self._lock:
            return self._task_results.get((execution_arn, sequence))

    def forget_task_result(self, execution_arn: str, sequence: int) -> None:
        with self._lock:
            self._task_results.pop((execution_arn, sequence), None)

    def mark_task_sent(self, execution_arn: str, sequence: int, redrive: int) -> None:
        with self._lock:
            self._task_sent[(execution_arn, sequence)] = redrive

    def task_sent(self, execution_arn: str, sequence: int) -> int | None:
        with self._lock:
            return self._task_sent.get((execution_arn, sequence))

    # -- the workers' side -----------------------------------------------------------------
    def ledger(self) -> MemoryLedger:
        """The :class:`orchestrator.messages.ChildLedger` of workers over this store."""
        return MemoryLedger(self)


class MemoryLedger:
    """A worker's :class:`orchestrator.messages.ChildLedger` over a :class:`MemoryMapRunStore`."""

    def __init__(self, store: MemoryMapRunStore) -> None:
        self._store = store

    def _run(self, batch: ChildBatch) -> _Run:
        return self._store._runs[batch.map_run_arn]

    def processor(self, batch: ChildBatch) -> str | None:
        return self._store.processor(batch.processor_key)

    def map_run_status(self, batch: ChildBatch) -> str | None:
        status = self._store.status(batch.map_run_arn)
        return status.value if status is not None else None

    def statuses(self, batch: ChildBatch) -> list[str | None]:
        statuses = self._store.child_statuses(batch.map_run_arn, [c.index for c in batch.children])
        return [s.value if s is not None else None for s in statuses]

    def journals(self, batch: ChildBatch) -> list[str | None]:
        with self._store._lock:
            run = self._run(batch)
            return [run.journals.get(c.index) for c in batch.children]

    def renew(self, batch: ChildBatch, holders: Sequence[str], expiry_ms: int) -> None:
        self._store.renew_permits(batch.map_run_arn, holders, expiry_ms)

    def claim(self, batch: ChildBatch, holders: Sequence[str], token: str, now_ms: int,
              expiry_ms: int) -> list[int]:
        # The rule of store/lua/claim_permits.lua.
        with self._store._lock:
            run = self._run(batch)
            out: list[int] = []
            for holder in holders:
                score = run.permits.get(holder)
                owner = run.claims.get(holder)
                if score is None or not (owner is None or owner == token or score <= now_ms):
                    out.append(0)
                    continue
                starts = f"n:{index_of(holder)}:{batch.redrive_count}"
                if owner != token:
                    run.starts[starts] = run.starts.get(starts, 0) + 1
                run.claims[holder] = token
                run.permits[holder] = expiry_ms
                out.append(run.starts[starts])
            return out

    def report_early(self, batch: ChildBatch, outcomes: Sequence[ChildOutcome]) -> None:
        with self._store._lock:
            outbox = self._run(batch).outbox
            for outcome in outcomes:
                outbox[outcome.index] = outcome.model_dump_json()

    def keep_journal(self, batch: ChildBatch, index: int, point_json: str) -> None:
        with self._store._lock:
            self._run(batch).journals[index] = point_json

    def drop_journal(self, batch: ChildBatch, index: int) -> None:
        with self._store._lock:
            self._run(batch).journals.pop(index, None)

    def keep_inputs(self, batch: ChildBatch, inputs: dict[int, str]) -> None:
        with self._store._lock:
            self._run(batch).inputs.update(inputs)


__all__ = ["MemoryLedger", "MemoryMapRunStore"]

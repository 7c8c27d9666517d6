"""The Map Run record: one typed value for what a Map Run is and how far it got.

A Map Run is persisted as one hash (field names in AWS's camelCase, because the DISPATCH Lua
script reads ``status``, ``limit``, ``readerDone`` and the thresholds straight from it) plus
counters, children and permits kept by the :class:`~orchestrator.store.maprun_base.MapRunStore`.
This module converts between that hash and :class:`MapRun`; nothing else reads the hash.

Counters are raw totals (``i.total``, ``i.dispatched``, ``i.SUCCEEDED`` ... for items, ``e.*``
for child executions); DescribeMapRun's ``pending`` and ``running`` are derived, so the
counters always add up (docs/architecture.md invariant 3).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.asl import DistributedMapRequest
from orchestrator.jsontext import dumps
from orchestrator.statuses import ChildStatus, MapRunStatus

ExecutionType = Literal["STANDARD", "EXPRESS"]


@dataclass(frozen=True, slots=True)
class FeedState:
    """Where the feeder stopped: the reader's cursor, the next child index, the open batch."""

    cursor: Any = None
    next: int = 0
    carried: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The persisted form."""
        return dumps({"cursor": self.cursor, "next": self.next, "carried": self.carried})

    @classmethod
    def from_json(cls, text: str | None) -> FeedState:
        """Inverse of :meth:`to_json` (an empty state for ``None``)."""
        data = json.loads(text) if text else None
        if not data:
            return cls()
        return cls(cursor=data.get("cursor"), next=int(data.get("next", 0)),
                   carried=list(data.get("carried") or []))


@dataclass(frozen=True, slots=True)
class Closing:
    """Why a Map Run is closing: the status it will end with, and its error."""

    status: MapRunStatus
    error: str | None = None
    cause: str | None = None

    def to_json(self) -> str:
        """The persisted form."""
        return dumps({"status": self.status.value, "error": self.error, "cause": self.cause})

    @classmethod
    def from_json(cls, text: str | None) -> Closing | None:
        """Inverse of :meth:`to_json`; a record written before ``status`` existed means FAILED."""
        if not text:
            return None
        data = json.loads(text)
        return cls(status=MapRunStatus(data.get("status", MapRunStatus.FAILED.value)),
                   error=data.get("error"), cause=data.get("cause"))


@dataclass(frozen=True, slots=True)
class MapRun:
    """One Map Run: identity, limits, thresholds, progress and outcome.

    The engine's request (which carries the Map state's input, and inline items) is kept as
    JSON text and decoded only by the steps that need it (:attr:`request`).
    """

    arn: str
    execution_arn: str
    map_run_id: str
    label: str
    state_name: str
    labelled_arn: str
    execution_prefix: str
    processor_key: str
    processor_hash: str
    execution_type: ExecutionType
    request_json: str
    max_concurrency: int
    limit: int
    window: int
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: float | None = None
    status: MapRunStatus = MapRunStatus.RUNNING
    start_date: float = 0.0
    stop_date: float | None = None
    redrive_date: float | None = None
    redrive_count: int = 0
    reader_done: bool = False
    feed: FeedState = field(default_factory=FeedState)
    closing: Closing | None = None
    result: str | None = None
    error: str | None = None
    cause: str | None = None
    #: stepmap extensions (docs/limits.md): rate limits (None: none) and the named pools the
    #: Map Run draws permits from, read by the grant script (``store/lua/grant_limits.lua``).
    items_per_second: float | None = None
    children_per_second: float | None = None
    pools: tuple[str, ...] = ()

    # stepmap extensions (docs/extensions.md): pause, resume and admission.
    #: When the current pause began (``None``: not paused; a paused run grants no permit).
    paused_at: float | None = None
    #: Seconds spent paused in pauses that ended.
    paused_seconds: float = 0.0
    #: Who the admission backlog is fair between (the parent's state machine ARN).
    admission_key: str = ""
    #: When the run entered the admission backlog, and when it was admitted.
    queued_at: float | None = None
    admitted_at: float | None = None

    @property
    def paused(self) -> bool:
        """Whether the run is paused now."""
        return self.paused_at is not None

    def paused_total(self, now: float) -> float:
        """Seconds paused so far (the current pause counted until ``now``, or the stop)."""
        if self.paused_at is None:
            return self.paused_seconds
        end = self.stop_date if self.stop_date is not None and not self.status.is_open else now
        return self.paused_seconds + max(0.0, end - self.paused_at)

    @property
    def request(self) -> DistributedMapRequest:
        """The Distributed Map request the Map Run was started with (decoded on each read)."""
        return DistributedMapRequest.from_dict(json.loads(self.request_json))

    @staticmethod
    def encode_request(request: DistributedMapRequest) -> str:
        """The stored form of a request."""
        return dumps(request.to_dict())

    def replace(self, **changes: Any) -> MapRun:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def to_fields(self) -> dict[str, str]:
        """The Redis hash of this record (absent optional values are left out)."""
        out = {
            "arn": self.arn,
            "executionArn": self.execution_arn,
            "mapRunId": self.map_run_id,
            "label": self.label,
            "stateName": self.state_name,
            "labelledArn": self.labelled_arn,
            "executionPrefix": self.execution_prefix,
            "processorKey": self.processor_key,
            "processorHash": self.processor_hash,
            "executionType": self.execution_type,
            "request": self.request_json,
            "maxConcurrency": str(self.max_concurrency),
            "limit": str(self.limit),
            "window": str(self.window),
            "toleratedFailureCount": json.dumps(self.tolerated_failure_count),
            "toleratedFailurePercentage": json.dumps(self.tolerated_failure_percentage),
            "status": self.status.value,
            "startDate": repr(self.start_date),
            "redriveCount": str(self.redrive_count),
            "feedState": self.feed.to_json(),
        }
        if self.reader_done:
            out["readerDone"] = "1"
        optional = {"stopDate": self.stop_date, "redriveDate": self.redrive_date,
                    "pausedAt": self.paused_at, "queuedAt": self.queued_at,
                    "admittedAt": self.admitted_at}
        if self.paused_seconds:
            out["pausedSeconds"] = repr(self.paused_seconds)
        if self.admission_key:
            out["admissionKey"] = self.admission_key
        out.update({k: repr(v) for k, v in optional.items() if v is not None})
        if self.closing is not None:
            out["closing"] = self.closing.to_json()
        texts = {"result": self.result, "error": self.error, "cause": self.cause}
        out.update({k: v for k, v in texts.items() if v is not None})
        rates = {"itemsPerSecond": self.items_per_second,
                 "childrenPerSecond": self.children_per_second}
        out.update({k: repr(float(v)) for k, v in rates.items() if v is not None})
        if self.pools:
            out["pools"] = ",".join(self.pools)
        return out

    @classmethod
    def from_fields(cls, raw: Mapping[str, str]) -> MapRun:
        """Inverse of :meth:`to_fields`."""
        return cls(
            arn=raw["arn"],
            execution_arn=raw["executionArn"],
            map_run_id=raw["mapRunId"],
            label=raw.get("label", ""),
            state_name=raw.get("stateName", ""),
            labelled_arn=raw["labelledArn"],
            execution_prefix=raw["executionPrefix"],
            processor_key=raw["processorKey"],
            processor_hash=raw["processorHash"],
            execution_type="EXPRESS" if raw.get("executionType") == "EXPRESS" else "STANDARD",
            request_json=raw["request"],
            max_concurrency=int(raw.get("maxConcurrency") or 0),
            limit=int(raw.get("limit") or 10_000),
            window=int(raw.get("window") or 1000),
            tolerated_failure_count=_optional_int(raw.get("toleratedFailureCount")),
            tolerated_failure_percentage=_optional_float(raw.get("toleratedFailurePercentage")),
            status=MapRunStatus(raw["status"]),
            start_date=float(raw.get("startDate") or 0.0),
            stop_date=_optional_float(raw.get("stopDate")),
            redrive_date=_optional_float(raw.get("redriveDate")),
            redrive_count=int(raw.get("redriveCount") or 0),
            reader_done=raw.get("readerDone") == "1",
            feed=FeedState.from_json(raw.get("feedState")),
            closing=Closing.from_json(raw.get("closing")),
            result=raw.get("result"),
            error=raw.get("error"),
            cause=raw.get("cause"),
            items_per_second=_optional_float(raw.get("itemsPerSecond")),
            children_per_second=_optional_float(raw.get("childrenPerSecond")),
            pools=tuple(p for p in (raw.get("pools") or "").split(",") if p),
            paused_at=_optional_float(raw.get("pausedAt")),
            paused_seconds=float(raw.get("pausedSeconds") or 0.0),
            admission_key=raw.get("admissionKey", ""),
            queued_at=_optional_float(raw.get("queuedAt")),
            admitted_at=_optional_float(raw.get("admittedAt")),
        )


def _optional_float(value: str | None) -> float | None:
    if value is None or value in ("", "null"):
        return None
    return float(value)


def _optional_int(value: str | None) -> int | None:
    number = _optional_float(value)
    return None if number is None else int(number)


@dataclass(frozen=True, slots=True)
class Counters:
    """Raw counters of one kind (items or child executions)."""

    total: int = 0
    dispatched: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    results_written: int = 0

    @property
    def terminal(self) -> int:
        """Children (or items) with a terminal status."""
        return self.succeeded + self.failed + self.timed_out + self.aborted

    @property
    def running(self) -> int:
        """Dispatched and not yet terminal."""
        return max(0, self.dispatched - self.terminal)

    @property
    def pending(self) -> int:
        """Neither running nor terminal."""
        return max(0, self.total - self.running - self.terminal)

    def to_api(self, *, pending_redrive: int = 0) -> dict[str, int]:
        """AWS's MapRunItemCounts / MapRunExecutionCounts shape."""
        return {
            "pending": self.pending,
            "running": self.running,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "timedOut": self.timed_out,
            "aborted": self.aborted,
            "total": self.total,
            "resultsWritten": self.results_written,
            "failuresNotRedrivable": 0,
            "pendingRedrive": pending_redrive,
        }

    @classmethod
    def from_hash(cls, raw: Mapping[str, str], kind: str) -> Counters:
        """Counters of ``kind`` ("i" items, "e" executions) from the counters hash."""

        def number(name: str) -> int:
            value = raw.get(f"{kind}.{name}")
            return int(value) if value else 0

        return cls(total=number("total"), dispatched=number("dispatched"),
                   succeeded=number(ChildStatus.SUCCEEDED), failed=number(ChildStatus.FAILED),
                   timed_out=number(ChildStatus.TIMED_OUT),
                   aborted=number(ChildStatus.ABORTED),
                   results_written=number("resultsWritten"))

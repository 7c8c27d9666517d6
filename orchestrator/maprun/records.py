"""Map Run records in Redis: the run's settings and status, its counters, its children.

Counters are kept as raw totals (``i.total``, ``i.dispatched``, ``i.SUCCEEDED`` ... for items,
``e.*`` for child executions); DescribeMapRun's ``pending`` and ``running`` are derived from
them, so the counters always add up: pending + running + succeeded + failed + timedOut +
aborted = total.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from orchestrator.store.keys import Keys

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_COUNTER_NAMES = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "timedOut",
                  "ABORTED": "aborted"}


def _int(value: Any, default: int = 0) -> int:
    return int(value) if value not in (None, b"", "") else default


@dataclass(frozen=True, slots=True)
class Counters:
    """Raw counters of one kind (items or executions)."""

    total: int
    dispatched: int
    succeeded: int
    failed: int
    timed_out: int
    aborted: int
    results_written: int

    @property
    def terminal(self) -> int:
        return self.succeeded + self.failed + self.timed_out + self.aborted

    @property
    def running(self) -> int:
        return max(0, self.dispatched - self.terminal)

    @property
    def pending(self) -> int:
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


def counters_from_hash(raw: dict[str, str], kind: str) -> Counters:
    """Counters of ``kind`` ("i" items, "e" executions) from the counters hash."""
    return Counters(
        total=_int(raw.get(f"{kind}.total")),
        dispatched=_int(raw.get(f"{kind}.dispatched")),
        succeeded=_int(raw.get(f"{kind}.SUCCEEDED")),
        failed=_int(raw.get(f"{kind}.FAILED")),
        timed_out=_int(raw.get(f"{kind}.TIMED_OUT")),
        aborted=_int(raw.get(f"{kind}.ABORTED")),
        results_written=_int(raw.get(f"{kind}.resultsWritten")),
    )


class MapRunStore:
    """Reads and writes Map Run records (a thin layer over Redis; no coordination logic)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    # -- the run ------------------------------------------------------------------------
    def create(self, arn: str, fields: dict[str, Any], *, execution_arn: str) -> None:
        """Store a new RUNNING Map Run and index it under its execution and the open set."""
        now = time.time()
        record = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        record.update({"arn": arn, "executionArn": execution_arn, "status": "RUNNING",
                       "startDate": repr(now)})
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.keys.map_run(arn), mapping=record)
        pipe.hset(self.keys.map_run_counters(arn), mapping={"i.total": 0, "e.total": 0})
        pipe.zadd(self.keys.execution_map_runs(execution_arn), {arn: now})
        pipe.zadd(self.keys.open_map_runs(), {arn: now})
        pipe.execute()

    def get(self, arn: str) -> dict[str, str] | None:
        """The Map Run hash, or None."""
        raw = self.r.hgetall(self.keys.map_run(arn))
        return {k.decode(): v.decode() for k, v in raw.items()} or None

    def field(self, arn: str, name: str) -> str | None:
        value = self.r.hget(self.keys.map_run(arn), name)
        return value.decode() if value is not None else None

    def update(self, arn: str, **fields: Any) -> None:
        self.r.hset(self.keys.map_run(arn), mapping={
            k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()
        })

    def counters(self, arn: str) -> tuple[Counters, Counters]:
        """(item counters, execution counters)."""
        raw = {k.decode(): v.decode() for k, v in self.r.hgetall(self.keys.map_run_counters(arn)).items()}
        return counters_from_hash(raw, "i"), counters_from_hash(raw, "e")

    def list_for_execution(self, execution_arn: str) -> list[str]:
        """Map Run ARNs of an execution, oldest first."""
        return [a.decode() for a in self.r.zrange(self.keys.execution_map_runs(execution_arn), 0, -1)]

    def open_runs(self) -> list[str]:
        return [a.decode() for a in self.r.zrange(self.keys.open_map_runs(), 0, -1)]

    def close(self, arn: str) -> None:
        self.r.zrem(self.keys.open_map_runs(), arn)

    # -- children ---------------------------------------------------------------------
    def child_location(self, name: str) -> tuple[str, int] | None:
        """(map run ARN, index) of a child execution name."""
        value = self.r.get(self.keys.child(name))
        if value is None:
            return None
        arn, _, index = value.decode().rpartition("|")
        return arn, int(index)

    def child_record(self, arn: str, index: int) -> dict[str, Any] | None:
        raw = self.r.hget(self.keys.map_run_children(arn), str(index))
        return json.loads(raw) if raw is not None else None

    def child_input(self, arn: str, index: int) -> str | None:
        raw = self.r.hget(self.keys.map_run_inputs(arn), str(index))
        return raw.decode() if raw is not None else None

    def child_status(self, arn: str, index: int) -> str | None:
        raw = self.r.hget(self.keys.map_run_status(arn), str(index))
        return raw.decode() if raw is not None else None

    def running_indexes(self, arn: str) -> list[int]:
        holders = self.r.zrange(self.keys.map_run_semaphore(arn), 0, -1)
        return sorted({int(h.decode().split(":", 1)[0]) for h in holders})

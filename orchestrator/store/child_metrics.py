"""Bounded totals of finished children: a duration histogram and handler errors by name.

The control process adds each child once, where its outcome is applied
(:mod:`orchestrator.maprun.outcomes`); the API's ``/metrics`` reads the totals back with one
HGETALL, never a scan over children. Series are bounded: state machines x statuses x
:data:`BUCKETS` for durations, state machines x :data:`ERROR_NAMES_CAP` error names (the first
ones seen; any later one is counted as :data:`OTHER_ERROR`) for errors. Totals only grow (they
are Prometheus counters), across restarts of every process.

Redis layout: one hash (``Keys.child_metrics``) with fields ``d|{machine}|{status}|{bucket}``
(children whose duration fell in bucket number ``bucket``; the last is +Inf),
``s|{machine}|{status}`` (sum of seconds) and ``e|{machine}|{error}`` (count), and one set
(``Keys.child_error_names``) of the error names kept as labels. State machine names never
contain ``|``; an error name may (it is the last part of its field).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import redis

from orchestrator.store.keys import Keys
from orchestrator.store.scripts import lua
from orchestrator.store.sync_redis import sync

#: Upper bounds (seconds) of the duration buckets; a last +Inf bucket follows.
BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
#: Distinct error names kept as labels; later ones are counted as :data:`OTHER_ERROR`.
ERROR_NAMES_CAP = 50
OTHER_ERROR = "other"


@dataclass(frozen=True, slots=True)
class ChildObservation:
    """One child execution that ended: its state machine, status, duration and error name."""

    machine: str
    status: str
    seconds: float
    error: str | None = None


@dataclass
class ChildMetricsSnapshot:
    """The totals: per (machine, status) bucket counts (not cumulative) and seconds, per
    (machine, error) counts."""

    buckets: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    errors: dict[tuple[str, str], int] = field(default_factory=dict)


class ChildMetrics(Protocol):
    """Where finished children are counted."""

    def observe(self, observations: Sequence[ChildObservation]) -> None:
        """Add each observation once (the caller observes a child only when it is recorded)."""
        ...

    def snapshot(self) -> ChildMetricsSnapshot:
        """The totals so far."""
        ...


def machine_of(map_run_arn: str) -> str:
    """The state machine name in a Map Run ARN (``...:mapRun:{name}/{label}:{id}``)."""
    parts = map_run_arn.split(":")
    return parts[6].split("/", 1)[0] if len(parts) >= 8 else ""


def bucket_of(seconds: float) -> int:
    """The index of the first bucket whose bound is at least ``seconds`` (len(BUCKETS): +Inf)."""
    return bisect.bisect_left(BUCKETS, max(seconds, 0.0))


@dataclass
class _Batch:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    errors: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))


def _batch(observations: Sequence[ChildObservation]) -> _Batch:
    out = _Batch()
    for o in observations:
        out.counts[f"d|{o.machine}|{o.status}|{bucket_of(o.seconds)}"] += 1
        out.seconds[f"s|{o.machine}|{o.status}"] += max(o.seconds, 0.0)
        if o.error is not None:
            out.errors[(o.machine, o.error)] += 1
    return out


def _snapshot(fields: dict[str, str]) -> ChildMetricsSnapshot:
    snap = ChildMetricsSnapshot()
    for name, value in fields.items():
        kind, _, rest = name.partition("|")
        if kind == "d":
            machine, status, bucket = rest.split("|", 2)
            row = snap.buckets.setdefault((machine, status), [0] * (len(BUCKETS) + 1))
            index = int(bucket)
            if 0 <= index < len(row):
                row[index] += int(value)
        elif kind == "s":
            machine, _, status = rest.partition("|")
            snap.seconds[(machine, status)] = float(value)
        elif kind == "e":
            machine, _, error = rest.partition("|")
            snap.errors[(machine, error)] = int(value)
    return snap


class RedisChildMetrics:
    """:class:`ChildMetrics` in Redis (one Lua call per observe, one HGETALL per snapshot)."""

    def __init__(self, client: redis.Redis, keys: Keys, *, cap: int = ERROR_NAMES_CAP) -> None:
        self._r = sync(client)
        self._keys = keys
        self._cap = cap
        self._observe = client.register_script(lua("child_metrics"))

    @classmethod
    def from_url(cls, url: str, prefix: str = "stepmap") -> RedisChildMetrics:
        """Metrics on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url), Keys(prefix))

    def observe(self, observations: Sequence[ChildObservation]) -> None:
        if not observations:
            return
        batch = _batch(observations)
        args: list[str | int | float] = [self._cap, OTHER_ERROR, len(batch.counts)]
        for name, count in batch.counts.items():
            args += [name, count]
        args.append(len(batch.seconds))
        for name, seconds in batch.seconds.items():
            args += [name, f"{seconds:.6f}"]
        args.append(len(batch.errors))
        for (machine, error), count in batch.errors.items():
            args += [machine, error, count]
        self._observe(keys=[self._keys.child_metrics(), self._keys.child_error_names()],
                      args=args)

    def snapshot(self) -> ChildMetricsSnapshot:
        raw = self._r.hgetall(self._keys.child_metrics())
        return _snapshot({k.decode(): v.decode() for k, v in raw.items()})


class MemoryChildMetrics:
    """:class:`ChildMetrics` in a dict (unit tests; same fields and cap as Redis)."""

    def __init__(self, *, cap: int = ERROR_NAMES_CAP) -> None:
        self._fields: dict[str, float] = defaultdict(float)
        self._names: set[str] = set()
        self._cap = cap

    def observe(self, observations: Sequence[ChildObservation]) -> None:
        batch = _batch(observations)
        for name, count in batch.counts.items():
            self._fields[name] += count
        for name, seconds in batch.seconds.items():
            self._fields[name] += seconds
        for (machine, error), count in batch.errors.items():
            if error not in self._names and len(self._names) < self._cap:
                self._names.add(error)
            label = error if error in self._names else OTHER_ERROR
            self._fields[f"e|{machine}|{label}"] += count

    def snapshot(self) -> ChildMetricsSnapshot:
        return _snapshot({k: repr(v) if k.startswith("s|") else str(int(v))
                          for k, v in self._fields.items()})

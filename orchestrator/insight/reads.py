"""What the console and the metrics read beyond the Step Functions operations.

The Map Run service (:class:`orchestrator.maprun.api.MapRunApi`) answers the AWS operations;
operators also need the set of open Map Runs, the index of a child inside its Map Run and the
depth of the Celery queues. Those are read here from the key templates of
:class:`orchestrator.store.keys.Keys` (read-only: nothing here writes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.store.keys import Keys

logger = logging.getLogger(__name__)


class MapRunReads(Protocol):
    """The part of the Map Run service this module calls."""

    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]: ...


class RedisReads(Protocol):
    """The Redis commands this module uses (``redis.Redis`` satisfies it)."""

    def zrange(self, name: str, start: int, end: int) -> Any: ...

    def get(self, name: str) -> Any: ...

    def llen(self, name: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """One open Map Run as DescribeMapRun reports it, with its state machine's name."""

    arn: str
    machine: str
    described: dict[str, Any]

    @property
    def items(self) -> dict[str, int]:
        """``itemCounts`` of DescribeMapRun."""
        counts: dict[str, int] = self.described.get("itemCounts", {})
        return counts

    @property
    def executions(self) -> dict[str, int]:
        """``executionCounts`` of DescribeMapRun."""
        counts: dict[str, int] = self.described.get("executionCounts", {})
        return counts


def machine_name(execution_arn: str) -> str:
    """The state machine name inside an execution ARN (``...:execution:<machine>:<name>``).

    A Map Run child's ARN (``...:execution:<machine>/<map>:<name>``) yields ``<machine>``.
    """
    parts = execution_arn.split(":")
    if len(parts) < 8:
        return ""
    return parts[6].split("/", 1)[0]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class InsightReader:
    """Reads open Map Runs, child indexes and queue depths.

    Args:
        client: the store's Redis (the one the Map Run service reads).
        keys: the deployment's key templates.
        map_runs: the Map Run service, for DescribeMapRun.
        queues: Celery queue names whose depth is reported (control, children).
        broker: the broker's Redis when it is not the store's.
    """

    def __init__(self, client: RedisReads, keys: Keys, map_runs: MapRunReads | None,
                 queues: tuple[str, ...], broker: RedisReads | None = None) -> None:
        self._redis = client
        self._keys = keys
        self._map_runs = map_runs
        self._queues = queues
        self._broker = broker if broker is not None else client

    def open_map_run_arns(self) -> list[str]:
        """ARNs of the Map Runs that have not finished, oldest first."""
        return [_text(a) for a in self._redis.zrange(self._keys.open_map_runs(), 0, -1)]

    def describe(self, map_run_arn: str) -> RunSnapshot | None:
        """DescribeMapRun as a snapshot; None when the run is gone (closed and expired)."""
        if self._map_runs is None:
            return None
        try:
            described = self._map_runs.describe_map_run(map_run_arn)
        except Exception:  # a run removed between the listing and this read
            logger.debug("Map Run %s not describable", map_run_arn, exc_info=True)
            return None
        return RunSnapshot(map_run_arn, machine_name(str(described.get("executionArn", ""))),
                           described)

    def open_runs(self) -> list[RunSnapshot]:
        """A snapshot of every open Map Run (one DescribeMapRun each)."""
        snapshots = (self.describe(arn) for arn in self.open_map_run_arns())
        return [s for s in snapshots if s is not None]

    def child_index(self, child_name: str) -> int | None:
        """The index of a child execution inside its Map Run (its first item for batches)."""
        value = self._redis.get(self._keys.child(child_name))
        if value is None:
            return None
        _, _, index = _text(value).rpartition("|")
        return int(index) if index.isdigit() else None

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each Celery queue (Redis LLEN of the broker list)."""
        return {queue: int(self._broker.llen(queue)) for queue in self._queues}

"""What the console and the metrics read beyond the Step Functions operations.

The Map Run service (:class:`orchestrator.maprun.api.MapRunApi`) answers the AWS operations and,
for operators, the set of open Map Runs and the index of a child inside its Map Run; the depth
of the Celery queues comes from the broker (:class:`orchestrator.store.connect.BrokerQueues`).
Nothing here reads Redis keys itself: the store owns them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol


logger = logging.getLogger(__name__)


class MapRunReads(Protocol):
    """The part of the Map Run service this module calls."""

    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]: ...

    def open_map_run_arns(self) -> list[str]: ...

    def child_index(self, child_name: str) -> int | None: ...


class QueueDepths(Protocol):
    """Messages waiting per Celery queue."""

    def depths(self) -> dict[str, int]: ...


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


class InsightReader:
    """Reads open Map Runs, child indexes and queue depths.

    Args:
        map_runs: the Map Run service (None: no Map Runs are reported).
        queues: the broker's queue depths (None: none are reported).
    """

    def __init__(self, map_runs: MapRunReads | None, queues: QueueDepths | None = None) -> None:
        self._map_runs = map_runs
        self._queues = queues

    def open_map_run_arns(self) -> list[str]:
        """ARNs of the Map Runs that have not finished, oldest first."""
        return self._map_runs.open_map_run_arns() if self._map_runs is not None else []

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
        return self._map_runs.child_index(child_name) if self._map_runs is not None else None

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each Celery queue."""
        return self._queues.depths() if self._queues is not None else {}

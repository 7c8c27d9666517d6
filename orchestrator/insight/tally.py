"""Monotonic totals of finished items and children, built from Map Run counters.

Map Run counters only grow while a run is open, and a run leaves the open set once. So the
totals advance by each open run's growth since the last look, plus, for a run that closed
since then, its growth up to its final counters (read once more). Totals start at zero when
the process starts, which Prometheus's ``rate()`` treats as a counter reset.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from orchestrator.insight.reads import RunSnapshot

#: DescribeMapRun count names of finished work, and the status label each one gets.
FINISHED = {"succeeded": "SUCCEEDED", "failed": "FAILED", "timedOut": "TIMED_OUT",
            "aborted": "ABORTED"}

Key = tuple[str, str]  # (state machine name, status)


def _finished(counts: Mapping[str, int]) -> dict[str, int]:
    return {name: int(counts.get(name, 0)) for name in FINISHED}


class Tally:
    """Totals of items and child executions by state machine and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, dict[str, int], dict[str, int]]] = {}
        self.items: dict[Key, int] = defaultdict(int)
        self.children: dict[Key, int] = defaultdict(int)

    def _add(self, machine: str, previous: Mapping[str, int], now: Mapping[str, int],
             into: dict[Key, int]) -> None:
        for name, status in FINISHED.items():
            # A redrive starts counting failed children again: never move a total backwards.
            grown = now[name] - previous.get(name, 0)
            if grown > 0:
                into[(machine, status)] += grown

    def _record(self, run: RunSnapshot) -> None:
        machine, items, children = self._seen.get(run.arn, (run.machine, {}, {}))
        new_items, new_children = _finished(run.items), _finished(run.executions)
        self._add(run.machine, items, new_items, self.items)
        self._add(run.machine, children, new_children, self.children)
        self._seen[run.arn] = (run.machine, new_items, new_children)

    def update(self, open_runs: Iterable[RunSnapshot],
               describe: Callable[[str], RunSnapshot | None]) -> None:
        """Advance the totals: ``open_runs`` now, ``describe`` for runs that closed since."""
        with self._lock:
            open_now = {run.arn: run for run in open_runs}
            for arn in [a for a in self._seen if a not in open_now]:
                final = describe(arn)
                if final is not None:
                    self._record(final)
                del self._seen[arn]
            for run in open_now.values():
                self._record(run)

    def snapshot(self) -> tuple[dict[Key, int], dict[Key, int]]:
        """Copies of (item totals, child totals)."""
        with self._lock:
            return dict(self.items), dict(self.children)

"""Recording child outcomes: the one place a child's end is applied to its Map Run.

Outcomes arrive on three channels: a worker's ``children_done`` report, the outbox when a
permit expired before the report came (the dispatcher's late settling), and a child hosted by
the control plane (a nested Distributed Map) that ended. All three go through :func:`record`;
the store's transition is keyed by the child index, so the first report wins and a duplicate
or late one changes nothing (docs/architecture.md invariant 3). The children newly recorded
are counted once for ``/metrics`` (duration, error name: :mod:`orchestrator.store.child_metrics`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from orchestrator import messages
from orchestrator.maprun.deps import Deps
from orchestrator.statuses import ChildStatus
from orchestrator.store.child_metrics import ChildObservation, machine_of
from orchestrator.store.maprun_base import ChildRecord, RecordedOutcome

log = logging.getLogger(__name__)


def record(deps: Deps, arn: str, outcomes: Iterable[messages.ChildOutcome]) -> list[int]:
    """Record terminal outcomes (first report wins); returns the indexes newly recorded."""
    ended = [o for o in outcomes if o.status != ChildStatus.SUSPENDED]
    terminal = [RecordedOutcome(o.index, o.holder, ChildRecord.of(o), o.history) for o in ended]
    if not terminal:
        return []
    fresh = deps.store.record_outcomes(arn, terminal)
    _observe(deps, arn, ended, fresh)
    return fresh


def _observe(deps: Deps, arn: str, ended: list[messages.ChildOutcome], fresh: list[int]) -> None:
    """Count the newly recorded children that ran (duration, error name) for ``/metrics``."""
    machine = machine_of(arn)
    recorded = set(fresh)
    observations = [ChildObservation(machine, o.status.value, o.stop - o.start, o.error)
                    for o in ended if o.index in recorded and not o.skipped]
    try:
        deps.child_metrics.observe(observations)
    except Exception:  # noqa: BLE001 - metrics never stop a Map Run
        log.warning("map run %s: could not count %d children in the metrics", arn,
                    len(observations), exc_info=True)

"""Recording child outcomes: the one place a child's end is applied to its Map Run.

Outcomes arrive on three channels: a worker's ``children_done`` report, the outbox when a
permit expired before the report came (the dispatcher's late settling), and a child hosted by
the control plane (a nested Distributed Map) that ended. All three go through :func:`record`;
the store's transition is keyed by the child index, so the first report wins and a duplicate
or late one changes nothing (docs/architecture.md invariant 3).
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator import messages
from orchestrator.maprun.deps import Deps
from orchestrator.statuses import ChildStatus
from orchestrator.store.maprun_base import ChildRecord, RecordedOutcome


def record(deps: Deps, arn: str, outcomes: Iterable[messages.ChildOutcome]) -> list[int]:
    """Record terminal outcomes (first report wins); returns the indexes newly recorded."""
    terminal = [RecordedOutcome(o.index, o.holder, ChildRecord.of(o), o.history)
                for o in outcomes if o.status != ChildStatus.SUSPENDED]
    if not terminal:
        return []
    return deps.store.record_outcomes(arn, terminal)

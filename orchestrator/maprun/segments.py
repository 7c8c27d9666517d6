"""Chord segments' books: closed by their chord body, or by the reconciler when it never ran.

Correctness never waits for a chord callback (docs/architecture.md invariant 4): outcomes
arrive with each message's ``children_done`` report, or from the outbox when a permit expires;
the segment books only tidy up.
"""

from __future__ import annotations

from orchestrator.maprun.deps import Deps


def close_overdue_segments(deps: Deps, arn: str, *, older_than: float) -> int:
    """Close chord segments whose body never ran, judging from the child records.

    A segment is done when every child it carried has a terminal status, or has been taken
    back by permit reclamation (its permit is gone and it sits in the ready queue again, where
    a later segment carries it).
    """
    store = deps.store
    now = deps.clock()
    closed = 0
    for segment, info in store.segments(arn).items():
        if now - info.sent_at < older_than:
            continue
        statuses = store.child_statuses(arn, info.indexes)
        holding = set(store.running_indexes(arn))
        if all(st is not None or i not in holding
               for i, st in zip(info.indexes, statuses, strict=True)):
            store.remove_segment(arn, segment)
            closed += 1
    return closed

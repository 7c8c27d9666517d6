"""Redriving a failed Map Run: only its unsuccessful children run again (docs/spec.md 3.6).

The run keeps its ARN, its succeeded children and their results; FAILED, TIMED_OUT and
ABORTED children go back to the ready queue (their counters reset to 0, as AWS resets
``failed`` on redrive), never-started items simply continue from the reader's cursor, and
``redriveCount`` goes up. A FAILED or TIMED_OUT STANDARD child resumes at the state that
failed, from the journal its worker kept (``workers/runner.py``), as AWS redrives STANDARD
children. Decisions (unverified): an ABORTED child (stopped mid-run, no journal) and every
EXPRESS child run again from ``StartAt``; a child's ``RedriveCount`` shows the Map Run's.
A redriven Map Run reopens at once, outside the admission backlog, and unpaused
(docs/extensions.md).
"""

from __future__ import annotations

from orchestrator import messages
from orchestrator.maprun.deps import Deps
from orchestrator.statuses import MapRunStatus

MAX_REDRIVES = 1000


class MapRunNotRedrivable(Exception):
    """The Map Run cannot be redriven (running, succeeded, or redriven 1,000 times)."""


def redrive_map_run(deps: Deps, arn: str) -> int:
    """Put the unsuccessful children of a closed Map Run back to work; returns its redriveCount."""
    run = deps.store.get(arn)
    if run is None or run.status not in (MapRunStatus.FAILED, MapRunStatus.ABORTED):
        status = run.status.value if run is not None else None
        raise MapRunNotRedrivable(f"Map Run {arn} is {status} and cannot be redriven")
    if run.redrive_count + 1 > MAX_REDRIVES:
        raise MapRunNotRedrivable(f"Map Run {arn} was already redriven {MAX_REDRIVES} times")
    if run.paused:
        # A redrive is an explicit restart: it ends a pause the run closed in (the pause is
        # counted until the stop). Decision, docs/extensions.md.
        deps.store.resume(arn, now=run.stop_date or deps.clock())
    count = deps.store.redrive(arn, now=deps.clock())
    deps.bus.send_control(messages.MAP_RUN_FEED, arn)
    return count

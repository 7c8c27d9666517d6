"""Admission: at most ``limits.open_map_runs`` Map Runs open at once (stepmap extension).

Every Map Run is created ``QUEUED`` at the back of its admission key's FIFO queue (the key is
the parent's state machine, so one state machine's burst cannot starve another's runs) and is
opened by :func:`admit`: one atomic store step that moves queued runs to RUNNING, round robin
between keys, while fewer than the limit are open. An admitted run is fed at once; a queued
one feeds, dispatches and reads nothing (the grant script grants nothing unless RUNNING).

:func:`admit` runs after every start, after every Map Run closes (a slot freed) and on every
reconciler pass (a changed limit, a control process killed between admitting and feeding: an
admitted run that was never fed is fed by the reconciler's dispatch, which asks for a feed
whenever the reader is not done). The limit is ``limits.open_map_runs`` unless one was set
live (``PUT /v1/admission``), which the store keeps, so a restart of any process changes
nothing. Decision: a redriven Map Run reopens at once, outside the backlog (it was admitted
before and its parent waits on it), and counts toward the open number from then on.
"""

from __future__ import annotations

import logging

from orchestrator import messages
from orchestrator.maprun.deps import Deps

log = logging.getLogger(__name__)


def admit(deps: Deps) -> list[str]:
    """Open queued Map Runs while slots are free and start feeding them; returns their ARNs."""
    admitted = deps.store.admit(deps.settings.limits.open_map_runs, now=deps.clock())
    for arn in admitted:
        deps.bus.send_control(messages.MAP_RUN_FEED, arn)
    if admitted:
        log.info("admitted %d queued Map Runs", len(admitted))
    return admitted


__all__ = ["admit"]

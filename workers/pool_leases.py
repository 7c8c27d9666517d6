"""Renewing, from a worker's main process, the permits of the messages its pool runs.

A pool process renews its own message's permits from a thread (:mod:`workers.leases`). A
handler that holds the GIL (a long call into C code that does not release it, a regular
expression backtracking for minutes) starves that thread: the lease lapses while the child
still runs, the permit is granted to a new dispatch of the same child, and MaxConcurrency is
exceeded (issue 9: one item started 12 times, 12 in flight against a limit of 5). The main
process of a prefork worker is another process, which no handler can starve; it knows which
messages its pool processes are running (Celery's active requests, accepted and not yet
finished), and renews their permits for as long as they run. A child therefore keeps its
permit while the process that runs it is alive; when that process dies (and its main
process with it, or the main process stops counting the message as active), the lease
lapses and the permit is reclaimed as before.

With ``--pool threads`` the handlers run in the main process itself, so a GIL-holding handler
starves this renewal too (documented in the README's worker section).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from orchestrator import messages
from orchestrator.messages import ChildBatch, ChildLedger


class PoolLeases:
    """Renews the permits of every ``run_children`` message the pool is running."""

    def __init__(self, ledger: ChildLedger, active: Callable[[], Iterable[Any]]) -> None:
        """``active``: the worker's active requests (objects with ``id``, ``name``, ``args``)."""
        self.ledger = ledger
        self.active = active
        self._batches: dict[str, ChildBatch] = {}

    def renew_now(self) -> int:
        """Renew the permits of the running messages; returns how many messages."""
        running: dict[str, ChildBatch] = {}
        for request in list(self.active()):
            if getattr(request, "name", None) != messages.RUN_CHILDREN:
                continue
            batch = self._batches.get(request.id)
            if batch is None:
                batch = messages.decode(ChildBatch, request.args[0])
            running[request.id] = batch
        self._batches = running
        now_ms = int(time.time() * 1000)
        for batch in running.values():
            # Only permits that still exist are extended (never a reclaimed one).
            self.ledger.renew(batch, [c.holder for c in batch.children], now_ms + batch.lease_ms)
        return len(running)

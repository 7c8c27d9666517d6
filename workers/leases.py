"""Keeps the concurrency permits of a running message alive (lease renewal).

The dispatcher grants each child a permit with a lease; while this worker holds the message it
renews the leases of its children every third of the lease, through its
:class:`~orchestrator.messages.ChildLedger`, so a long child keeps its permit and a dead
worker's permits expire and are reclaimed. Renewal only extends permits that still exist: it
can never resurrect a permit that was reclaimed and given to someone else.
"""

from __future__ import annotations

import time
from types import TracebackType

from orchestrator.messages import ChildBatch, ChildLedger
from orchestrator.renewal import Renewal


class LeaseKeeper:
    """Context manager: renews the permits of ``batch``'s children in a background thread."""

    def __init__(self, ledger: ChildLedger, batch: ChildBatch) -> None:
        self.ledger = ledger
        self.batch = batch
        self.holders = [c.holder for c in batch.children]
        self.lease_ms = batch.lease_ms
        self._renewal = Renewal(self.renew_now, batch.lease_ms / 3000.0, "permits")

    def finished(self, holder: str) -> None:
        """Stop renewing a holder whose child is done."""
        try:
            self.holders.remove(holder)
        except ValueError:
            pass

    def renew_now(self) -> None:
        """Renew the permits still held (what the background thread does periodically)."""
        holders = list(self.holders)
        if holders:
            self.ledger.renew(self.batch, holders, int(time.time() * 1000) + self.lease_ms)

    def __enter__(self) -> LeaseKeeper:
        self._renewal.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._renewal.__exit__(exc_type, exc, tb)

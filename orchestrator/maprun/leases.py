"""A short lease held while one control process does a long job, renewed while it works.

The finalizer holds one while it writes a Map Run's results, the feeder while it reads, the parent
runner while it advances an execution: if its process dies, the lease
lapses within seconds and the next progress check (a report, or the reconciler) takes over,
instead of the Map Run staying RUNNING until a long lock expired.
"""

from __future__ import annotations

import logging
import uuid
from types import TracebackType

from orchestrator.renewal import Renewal
from orchestrator.store.maprun_base import Lease, MapRunStore

log = logging.getLogger(__name__)


class LeaseHeld:
    """Context manager over an acquired lease: renews it every third of its TTL, then releases.

    Use :meth:`acquire` to get one; ``None`` means someone else holds the lease.
    """

    def __init__(self, store: MapRunStore, lease: Lease, subject: str, token: str,
                 ttl_ms: int) -> None:
        self.store = store
        self.lease = lease
        self.subject = subject
        self.token = token
        self.ttl_ms = ttl_ms
        self.lost = False
        self._renewal = Renewal(self.renew, ttl_ms / 3000.0, f"{lease.value}-lease")

    @classmethod
    def acquire(cls, store: MapRunStore, lease: Lease, subject: str,
                ttl_ms: int) -> LeaseHeld | None:
        """Take the lease, or ``None`` when another process holds it."""
        token = uuid.uuid4().hex
        if not store.acquire_lease(lease, subject, token, ttl_ms):
            return None
        return cls(store, lease, subject, token, ttl_ms)

    def renew(self) -> bool:
        """Extend the lease now; False (and :attr:`lost` set) when someone else took it."""
        if not self.lost and not self.store.renew_lease(self.lease, self.subject, self.token,
                                                        self.ttl_ms):
            self.lost = True
            log.warning("lost the %s lease of %s", self.lease.value, self.subject)
        return not self.lost

    def __enter__(self) -> LeaseHeld:
        self._renewal.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._renewal.__exit__(exc_type, exc, tb)
        if exc_type is None or issubclass(exc_type, Exception):
            # A crash (a BaseException: the process is going down) leaves the lease to lapse.
            self.store.release_lease(self.lease, self.subject, self.token)

"""Keeps the concurrency permits of a running message alive (lease renewal).

The dispatcher grants each child a permit with a lease; while this worker holds the message it
renews the leases of its children every third of the lease, so a long child keeps its permit
and a dead worker's permits expire and are reclaimed. Renewal only extends holders that still
exist (ZADD XX): it can never resurrect a permit that was reclaimed and given to someone else.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import redis

log = logging.getLogger(__name__)

_RENEW = """
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', tonumber(ARGV[1]), ARGV[i])
end
return n
"""


class LeaseKeeper:
    """Context manager: renews ``holders`` on ``key`` in a background thread."""

    def __init__(self, client: redis.Redis, key: str, holders: list[str], lease_ms: int) -> None:
        self.client = client
        self.key = key
        self.holders = list(holders)
        self.lease_ms = lease_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._script = client.register_script(_RENEW)

    def finished(self, holder: str) -> None:
        """Stop renewing a holder whose child is done."""
        try:
            self.holders.remove(holder)
        except ValueError:
            pass

    def _loop(self) -> None:
        interval = self.lease_ms / 3000.0
        while not self._stop.wait(interval):
            holders = list(self.holders)
            if not holders:
                continue
            try:
                self._script(keys=[self.key], args=[int(time.time() * 1000) + self.lease_ms, *holders])
            except redis.RedisError:
                log.warning("lease renewal failed for %s", self.key, exc_info=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread = threading.Thread(target=self._loop, name="stepmap-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

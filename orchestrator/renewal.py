"""A background renewal: call a function at a fixed interval while a block of work runs.

Both kinds of lease stepmap renews while work goes on use it: a worker's concurrency permits
(``workers/leases.py``) and the finalizer's lease (``orchestrator/maprun/leases.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger(__name__)


class Renewal:
    """Context manager: calls ``renew`` every ``interval`` seconds in a daemon thread.

    A failing call is logged and retried at the next tick (the lease's expiry is the bound).
    """

    def __init__(self, renew: Callable[[], object], interval: float, name: str) -> None:
        self._renew = renew
        self._interval = interval
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._renew()
            except Exception:  # noqa: BLE001 - retried at the next tick
                log.warning("renewal %s failed", self._name, exc_info=True)

    def __enter__(self) -> Renewal:
        self._thread = threading.Thread(target=self._loop, name=f"stepmap-{self._name}",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

"""Hand a worker process's freed heap back to the OS once it has been idle (glibc ``malloc_trim``).

CPython returns small objects' arenas itself, but larger blocks (a feed window's rows, a batch's
JSON, result records) come from ``malloc``; glibc keeps what is freed in its heap, so a control
pool process that fed a large Map Run stayed tens of MiB above its idle size for good.
``malloc_trim(0)`` releases the free pages. It costs up to tens of milliseconds after a large
run and a fraction of a millisecond otherwise, so it runs only once the process has run no
task for ``idle_seconds`` after running some. Where the C library has no ``malloc_trim``
(musl), nothing is trimmed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def libc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)`` as a callable, or None without it."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class IdleTrimmer:
    """Decides when a process is idle enough to trim, and trims (from :meth:`run`'s thread)."""

    def __init__(self, idle_seconds: float, trim: Callable[[], object],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self._trim = trim
        self._clock = clock
        self._lock = threading.Lock()
        self._running = 0
        self._dirty = False
        self._last_end = clock()
        self.trims = 0

    def task_started(self) -> None:
        """A task starts in this process."""
        with self._lock:
            self._running += 1
            self._dirty = True

    def task_finished(self) -> None:
        """A task ended in this process."""
        with self._lock:
            self._running = max(0, self._running - 1)
            self._last_end = self._clock()

    def trim_if_idle(self) -> bool:
        """Trim when tasks ran since the last trim and none has run for ``idle_seconds``."""
        with self._lock:
            due = (self._dirty and self._running == 0
                   and self._clock() - self._last_end >= self.idle_seconds)
            if due:
                self._dirty = False
        if due:
            self._trim()
            self.trims += 1
        return due

    def run(self) -> None:  # pragma: no cover - the daemon thread's loop
        """Check every half ``idle_seconds`` forever."""
        while True:
            time.sleep(self.idle_seconds / 2)
            try:
                self.trim_if_idle()
            except Exception:  # noqa: BLE001 - never let the trimmer take the process down
                log.warning("malloc_trim failed", exc_info=True)
                return

    def start(self) -> None:  # pragma: no cover - runs in a worker pool process
        """Run :meth:`run` in a daemon thread."""
        threading.Thread(target=self.run, daemon=True, name="stepmap-heap-trim").start()

"""Hand a worker process's freed heap back to the OS once it has been idle (glibc ``malloc_trim``).

CPython returns small objects' arenas itself, but larger blocks (a feed window's rows, a batch's
JSON, result records) come from ``malloc``; glibc keeps what is freed in its heap, so a control
pool process that fed a large Map Run stayed tens of MiB above its idle size for good.
``malloc_trim(0)`` releases the free pages. It costs up to tens of milliseconds after a large
run and a fraction of a millisecond otherwise, so it runs once the process has run no task
for ``idle_seconds`` after running some, and right after a task that ran ``busy_seconds`` or
more (a write pass, a feed: they free MiBs that would otherwise stay resident until the Map Run
ends; measured at 0.3-2 ms a trim, after tasks of 50 ms and more). Where the C library has no
``malloc_trim`` (musl), nothing is trimmed.

While a pool process works, glibc's *dynamic* mmap threshold lets large blocks into its heap:
it starts at 128 KiB and rises to the size of each mapped block that is freed (up to 32 MiB),
so after the first 1-MiB S3 read chunk is freed, every later one, and every 64-KiB block the
range planner cuts, comes from the heap, where blocks of ever so slightly different sizes leave
holes that small objects then pin. A control process planning a 10M-row CSV ended with ~6 MiB
of such free heap more than one planning 100k rows (issue 14). :func:`libc_mmap_threshold`
fixes the threshold instead (``celery.mmap_threshold_bytes``): blocks of that size and more
are mapped on their own and unmapped when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


#: ``mallopt`` parameter number of glibc's mmap threshold (``<malloc.h>``).
M_MMAP_THRESHOLD = -3


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def libc_mmap_threshold(size: int) -> bool:
    """Fix glibc's mmap threshold at ``size`` bytes (``mallopt(M_MMAP_THRESHOLD, size)``).

    Returns:
        Whether it was set (False where the C library has no ``mallopt``, or refused it).
    """
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, size))


def libc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)`` as a callable, or None without it."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class IdleTrimmer:
    """Decides when a process is idle enough to trim, and trims (from :meth:`run`'s thread,
    or after a long task from the thread that ran it).

    ``idle_seconds`` 0: never once idle; ``busy_seconds`` 0: never after a long task.
    """

    def __init__(self, idle_seconds: float, trim: Callable[[], object],
                 clock: Callable[[], float] = time.monotonic, busy_seconds: float = 0.0) -> None:
        self.idle_seconds = idle_seconds
        self.busy_seconds = busy_seconds
        self._trim = trim
        self._clock = clock
        self._lock = threading.Lock()
        self._running = 0
        self._dirty = False
        self._last_end = clock()
        self._busy_since = self._last_end
        self.trims = 0

    def task_started(self) -> None:
        """A task starts in this process."""
        with self._lock:
            if self._running == 0:
                self._busy_since = self._clock()
            self._running += 1
            self._dirty = True

    def task_finished(self) -> bool:
        """A task ended in this process; trims at once when the process was busy for
        ``busy_seconds`` or more and no other task runs. Returns whether it trimmed."""
        with self._lock:
            self._running = max(0, self._running - 1)
            self._last_end = self._clock()
            due = self._due(self.busy_seconds > 0
                            and self._last_end - self._busy_since >= self.busy_seconds)
        return self._trim_if(due)

    def trim_if_idle(self) -> bool:
        """Trim when tasks ran since the last trim and none has run for ``idle_seconds``."""
        with self._lock:
            due = self._due(self._dirty and self._clock() - self._last_end >= self.idle_seconds)
        return self._trim_if(due)

    def _due(self, wanted: bool) -> bool:
        """(Under the lock.) Trim now: ``wanted`` and no task runs; nothing ran since, then."""
        due = wanted and self._running == 0
        if due:
            self._dirty = False
        return due

    def _trim_if(self, due: bool) -> bool:
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

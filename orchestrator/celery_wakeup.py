"""Keeps a threads-pool worker taking messages as soon as a pool thread frees a slot.

With ``--pool threads``, acks late and a prefetch of one per thread, a task acked in a pool
thread does not wake the worker's event loop: once every thread held a message, the next one
was fetched only when the loop woke for another reason, seconds later (celery/celery#6941). A
control worker with one thread then took one message per ~5-10 s and a Map Run waited on that
(``tests/e2e/test_threads_pool.py``). Every worker on a threads pool therefore gets a no-op
timer in its event loop every :data:`WAKE_SECONDS`: each tick ends the loop's poll, and the loop
asks the broker again when a slot is free. Prefork pools are untouched: their results arrive
on a pipe the loop already watches.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

#: How often a threads-pool worker's event loop wakes: the longest a free slot waits.
WAKE_SECONDS = 0.05


def install(app: Celery) -> None:
    """Give ``app``'s workers the wake-up timer when they run a threads pool."""

    def wake_threads_pool(sender: Any = None, **_: Any) -> None:
        if sender is None or sender.app is not app or not runs_threads_pool(sender.pool):
            return
        sender.timer.call_repeatedly(WAKE_SECONDS, _tick)

    signals.worker_ready.connect(wake_threads_pool, weak=False)


def runs_threads_pool(pool: Any) -> bool:
    """Whether ``pool`` is Celery's threads pool (``--pool threads``)."""
    from celery.concurrency.thread import TaskPool

    return isinstance(pool, TaskPool)


def _tick() -> None:
    """Nothing: the timer only ends the event loop's poll."""

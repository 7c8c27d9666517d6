"""A worker with a readiness mark in Redis: ``python -m orchestrator.devstack._celery_main``.

Usage: ``python -m orchestrator.devstack._celery_main REDIS_URL READY_KEY -- -A APP worker ...``.

Runs the worker command line of ``stepmap worker`` (:mod:`orchestrator.celery_worker`); when
the worker's consumer is ready (Celery's ``worker_ready`` signal, sent by the main process) it
writes its pid to ``READY_KEY``. The local stack polls that key: one GET, no broadcast round
trip like ``celery inspect ping``, and it does not depend on the app's remote-control or logging
configuration.
"""

from __future__ import annotations

import os
import sys
from typing import Any

READY_TTL_SECONDS = 24 * 3600


def main(argv: list[str]) -> None:
    """Install the readiness hook and hand over to Celery's own entry point."""
    if len(argv) < 3 or argv[2] != "--":
        raise SystemExit(f"usage: {__doc__}")
    redis_url, ready_key, celery_args = argv[0], argv[1], argv[3:]

    from celery.signals import worker_ready

    def mark_ready(**_: Any) -> None:
        from orchestrator.store.readiness import ReadinessMarks

        marks = ReadinessMarks.from_url(redis_url)
        try:
            marks.mark(ready_key, os.getpid(), READY_TTL_SECONDS)
        finally:
            marks.close()

    worker_ready.connect(mark_ready, weak=False)

    from orchestrator.celery_worker import main as worker_main

    sys.argv = ["celery", *celery_args]
    worker_main(celery_args)


if __name__ == "__main__":
    main(sys.argv[1:])

"""``python -m orchestrator.celery_worker -A APP worker ARGS``: ``celery -A APP worker ARGS``, lean.

``celery``'s command group imports all of its subcommands and every installed
``celery.commands`` plugin before it parses its arguments (Flower with tornado and
prometheus_client, the REPL with prompt_toolkit and pygments): about 20 MiB in a worker's main
process, which every prefork pool process inherits and keeps (each counts it in its RSS again).
This runs Celery's own ``worker`` command alone, with the same options and behaviour, on the app
named by ``-A``. stepmap's workers start through it (``stepmap worker``, ``stepmap dev``, compose,
Kubernetes); Flower and ``celery inspect`` keep the full ``celery`` command.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m orchestrator.celery_worker -A MODULE:APP worker [worker options]"


def main(argv: list[str]) -> None:
    """Start the worker of ``argv`` (``-A APP worker ...``); exits with the worker's exit code."""
    if len(argv) < 3 or argv[0] not in ("-A", "--app") or argv[2] != "worker":
        raise SystemExit(USAGE)
    from celery.app.utils import find_app
    from celery.bin.base import CLIContext
    from celery.bin.worker import worker

    app = find_app(argv[1])
    worker.main(args=argv[3:], prog_name=f"celery -A {argv[1]} worker",
                obj=CLIContext(app=app, no_color=None, workdir=None))


if __name__ == "__main__":
    main(sys.argv[1:])

"""``celery inspect stepmap_modules [PREFIX ...]``: the modules a worker's main process imported.

A remote-control command answered by the worker's main process (the one that receives messages
and hands them to its pool). The control worker's main process is kept free of the control
plane's code (:mod:`orchestrator.control.tasks`): this shows what it carries, e.g.::

    celery -A orchestrator.control.app:app inspect stepmap_modules orchestrator.maprun boto3

Celery's remote-control registry is global: importing this module registers the command.
"""

from __future__ import annotations

import sys
from typing import Any

from celery.worker.control import inspect_command


@inspect_command(variadic="prefixes", signature="[PREFIX ...]")
def stepmap_modules(state: Any, prefixes: Any = None, **_: Any) -> list[str]:
    """Modules imported by this worker's main process (those under the given prefixes)."""
    wanted = [prefixes] if isinstance(prefixes, str) else list(prefixes or [])
    return sorted(name for name in list(sys.modules)
                  if not wanted or any(name == p or name.startswith(f"{p}.") for p in wanted))

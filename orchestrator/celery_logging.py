"""Logging of the Celery workers: stepmap's format and each task's context on every line.

:func:`install` is called by both worker apps (``orchestrator.control.app`` and
``workers.celery_app``). It answers Celery's ``setup_logging`` signal with
:func:`orchestrator.logging_context.dict_config` in the format of the ``log_format`` setting
(``STEPMAP_LOG_FORMAT``, which ``stepmap worker --log-format`` sets), so Celery leaves the
root logger to it (``worker_hijack_root_logger`` stays False). Around every task it binds the
Celery task id and the ARNs the task's arguments name (:func:`task_context`); the children
runner adds the child it runs (``workers/runner.py``).
"""

from __future__ import annotations

import contextlib
import logging.config
import re
from collections.abc import Iterable, Mapping
from typing import Any

from celery import Celery, signals

from orchestrator.logging_context import bound, dict_config
from orchestrator.settings import Settings

#: Keys of a message payload (a dict argument) that name what the task acts on.
PAYLOAD_KEYS = {"map_run_arn": "map_run_arn", "execution_arn": "execution_arn"}

#: The same keys at the head of a payload sent as JSON text (``run_children`` batches and
#: ``children_done`` reports: ``orchestrator.messages.decode``), read without parsing the body.
_TEXT_KEYS = re.compile(r'"(map_run_arn|execution_arn)":"(arn:[^"\\]+)"')
#: How far into a JSON text payload its ARNs are looked for (they are its first fields).
TEXT_HEAD = 2048

_open: dict[str, contextlib.ExitStack] = {}


def _arn_field(arn: str) -> str | None:
    """The context field an ARN fills (``mapRun`` or ``execution``), None for other ARNs."""
    if ":mapRun:" in arn:
        return "map_run_arn"
    if ":execution:" in arn:
        return "execution_arn"
    return None


def task_context(args: Iterable[Any], kwargs: Mapping[str, Any]) -> dict[str, str]:
    """The execution and Map Run ARNs a control or children task acts on.

    Tasks take an ARN (``advance_execution(arn)``, ``map_run_feed(arn)``, ``close_segment(parts,
    arn, segment)``) or a message payload with ``execution_arn`` / ``map_run_arn``, as a dict
    (``task_done``, ``invoke_task``) or as JSON text (``run_children``, ``children_done``); the
    first of each wins.
    """
    found: dict[str, str] = {}
    for value in [*args, *kwargs.values()]:
        if isinstance(value, str) and value.startswith("arn:"):
            field = _arn_field(value)
            if field:
                found.setdefault(field, value)
        elif isinstance(value, str) and value.startswith("{"):
            for key, arn in _TEXT_KEYS.findall(value[:TEXT_HEAD]):
                found.setdefault(PAYLOAD_KEYS[key], arn)
        elif isinstance(value, Mapping):
            for key, field in PAYLOAD_KEYS.items():
                if isinstance(value.get(key), str) and value[key]:
                    found.setdefault(field, value[key])
    return found


def _enter_task(task_id: str | None = None, args: Any = None, kwargs: Any = None,
                **_: Any) -> None:
    if not task_id:
        return
    stack = contextlib.ExitStack()
    stack.enter_context(bound(task_id=task_id, **task_context(args or (), kwargs or {})))
    _open[task_id] = stack


def _leave_task(task_id: str | None = None, **_: Any) -> None:
    stack = _open.pop(task_id or "", None)
    if stack is not None:
        stack.close()


def install(app: Celery, settings: Settings) -> None:
    """Configure the worker's logging from ``settings`` and bind each task's context."""
    app.conf.worker_hijack_root_logger = False

    def setup(loglevel: Any = None, **_: Any) -> None:
        level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else loglevel
        logging.config.dictConfig(dict_config(settings.log_format, str(level or "INFO")))

    signals.setup_logging.connect(setup, weak=False, dispatch_uid="stepmap.logging")
    signals.task_prerun.connect(_enter_task, weak=False, dispatch_uid="stepmap.context.in")
    signals.task_postrun.connect(_leave_task, weak=False, dispatch_uid="stepmap.context.out")

"""Command lines and environments of stepmap's processes, shared by the CLI and the local stack.

``stepmap worker`` (compose, production) and :class:`~orchestrator.devstack.stack.LocalStack`
(``stepmap dev``, the demo, the e2e tests) build their Celery command lines here, so a worker run
by hand, in a container or by the tests is the same command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

from orchestrator.settings import Settings

WorkerKind = Literal["control", "children"]

API_FACTORY = "orchestrator.api:create_app"
"""Import path of the API app factory, called with the process's :class:`Settings`."""
CONTROL_APP = "orchestrator.control.app:app"
"""Celery app of the control worker (parent executions, Map Run coordination)."""
CHILDREN_APP = "workers.celery_app:app"
"""Celery app of the children workers (child workflows, user handlers); Flower uses it too."""
ENV_PREFIX = "STEPMAP_"


def worker_app(kind: WorkerKind) -> str:
    """The Celery app import path of a worker kind."""
    return CONTROL_APP if kind == "control" else CHILDREN_APP


def worker_queue(kind: WorkerKind, settings: Settings) -> str:
    """The queue a worker kind consumes."""
    return settings.celery.control_queue if kind == "control" else settings.celery.children_queue


def celery_worker_args(
    kind: WorkerKind,
    settings: Settings,
    *,
    app: str | None = None,
    name: str | None = None,
    concurrency: int | None = None,
    loglevel: str = "INFO",
    pool: str | None = None,
    heartbeat: bool = True,
    events: bool | None = None,
) -> list[str]:
    """Arguments of ``celery`` (without the program name) that run one worker of ``kind``.

    Gossip and mingle are always off: stepmap's workers share nothing through them, and mingle
    alone adds about a second to every start. Children take one message at a time
    (``--prefetch-multiplier 1``) so that a slow child never holds a queue of others hostage.

    Args:
        kind: ``control`` or ``children``.
        settings: Supplies the queue names.
        app: Celery app import path; the kind's default when None.
        name: Node name before ``@``; the kind when None (``children@<hostname>``).
        concurrency: Pool size; when None, ``celery.control_concurrency`` for the control
            worker and Celery's default (CPU count) for children workers.
        loglevel: Celery log level.
        pool: Celery pool implementation (prefork when None).
        heartbeat: Send worker heartbeat events (Flower's online status needs them).
        events: Send task events (Flower's task views need them); same as ``heartbeat`` when
            None. Off, they cost nothing: on, about a third of a child worker's CPU at batch 1.
    """
    args = [
        "-A", app or worker_app(kind), "worker",
        "-Q", worker_queue(kind, settings),
        "-n", f"{name or kind}@%h",
        "--loglevel", loglevel.upper(),
        "--without-gossip", "--without-mingle",
    ]
    if not heartbeat:
        args.append("--without-heartbeat")
    if heartbeat if events is None else events:
        args.append("--task-events")
    if concurrency is None and kind == "control":
        concurrency = settings.celery.control_concurrency
    if concurrency is not None:
        args += ["-c", str(concurrency)]
    if pool:
        args += ["--pool", pool]
    if kind == "children":
        args += ["--prefetch-multiplier", "1"]
    return args


def flower_args(
    *,
    host: str,
    port: int,
    app: str = CHILDREN_APP,
) -> list[str]:
    """Arguments of ``celery`` that run Flower on ``host:port`` (reading the broker).

    Basic auth never travels in argv (``/proc/<pid>/cmdline`` is world-readable): Flower reads
    it from its ``FLOWER_BASIC_AUTH`` environment variable, see :func:`flower_env`.
    """
    return ["-A", app, "flower", f"--address={host}", f"--port={port}"]


def flower_env(basic_auth: str | None) -> dict[str, str]:
    """The environment that turns on Flower's basic auth (empty without credentials)."""
    return {"FLOWER_BASIC_AUTH": basic_auth} if basic_auth else {}


def python_celery(args: list[str]) -> list[str]:
    """``python -m celery args`` with this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "celery", *args]


WORKER_MAIN = "orchestrator.celery_worker"
"""Module that runs Celery's ``worker`` command without the rest of the ``celery`` CLI."""


def python_worker(args: list[str]) -> list[str]:
    """The command line of a worker from :func:`celery_worker_args` with this interpreter.

    Same arguments as ``celery``, run by :mod:`orchestrator.celery_worker`: the ``celery``
    command's plugins (Flower, the REPL) stay out of the worker's processes.
    """
    return [sys.executable, "-m", WORKER_MAIN, *args]


def _encode(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {k: _encode(v) for k, v in value.model_dump().items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def settings_env(settings: Settings) -> dict[str, str | None]:
    """``STEPMAP_*`` environment variables that rebuild ``settings`` in another process.

    Nested groups use ``__`` (``STEPMAP_REDIS__URL``); lists and dicts are JSON, as
    pydantic-settings expects; secrets are revealed (the environment is the child's own). A value
    of None means "unset this variable" so that a stale one inherited from the parent cannot win.
    """
    env: dict[str, str | None] = {}

    def walk(model: BaseModel, prefix: str) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            key = f"{prefix}{name.upper()}"
            if isinstance(value, BaseModel):
                walk(value, f"{key}__")
            elif value is None:
                env[key] = None
            else:
                encoded = _encode(value)
                if isinstance(encoded, bool):
                    env[key] = "true" if encoded else "false"
                elif isinstance(encoded, list | dict):
                    env[key] = json.dumps(encoded)
                else:
                    env[key] = str(encoded)

    walk(settings, ENV_PREFIX)
    return env


def process_env(
    base: Mapping[str, str], settings: Settings, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a stack process: ``base`` + the settings' variables + ``extra``."""
    env = dict(base)
    for key, value in settings_env(settings).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def merge_settings(base: Settings, overrides: Mapping[str, Any] | None) -> Settings:
    """``base`` with ``overrides`` (a nested dict, e.g. ``{"limits": {"segment_size": 4}}``)."""
    data = base.model_dump()

    def deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
        for key, value in new.items():
            if isinstance(value, Mapping) and isinstance(into.get(key), dict):
                deep_merge(into[key], value)
            else:
                into[key] = value

    deep_merge(data, overrides or {})
    # Init arguments take precedence over the environment in pydantic-settings.
    return Settings(**data)

"""stepmap's Celery apps, wrapped for experiments: cProfile and Celery configuration overrides.

``$BENCH_CELERY_CONF`` (a JSON object) is applied to the app's configuration before the worker
starts (e.g. ``{"worker_send_task_events": false}``), to measure a configuration change without
editing the runtime code (``bench --celery-conf``).

With ``$BENCH_PROFILE_DIR`` set, cProfile runs in every worker process (``bench --profile``).

``celery -A bench._profiled:control_app worker ...`` is the ordinary control worker whose pool
processes (and main process) each run a :class:`cProfile.Profile` from start to stop. Stats
are dumped to ``$BENCH_PROFILE_DIR/<app>-<role>-<pid>.prof`` every couple of seconds of task
activity and at shutdown, so a worker killed at stack stop still leaves a recent profile.
Nothing in the runtime code changes: this module only wraps the apps.
"""

from __future__ import annotations

import cProfile
import json
import os
import time
from pathlib import Path
from typing import Any

from celery import signals

DUMP_EVERY = 2.0

_state: dict[str, Any] = {"profile": None, "last": 0.0, "path": None}


def _start(app_name: str, role: str) -> None:
    folder = os.environ.get("BENCH_PROFILE_DIR")
    if not folder or _state["profile"] is not None:
        return
    _state["path"] = Path(folder) / f"{app_name}-{role}-{os.getpid()}.prof"
    profile = cProfile.Profile()
    _state["profile"] = profile
    profile.enable()


def _dump(force: bool = False) -> None:
    profile = _state["profile"]
    if profile is None:
        return
    now = time.monotonic()
    if not force and now - _state["last"] < DUMP_EVERY:
        return
    _state["last"] = now
    profile.disable()
    try:
        profile.dump_stats(str(_state["path"]))
    finally:
        profile.enable()


def _configure(app: Any) -> None:
    conf = os.environ.get("BENCH_CELERY_CONF")
    if conf:
        app.conf.update(json.loads(conf))


def _wire(app_name: str) -> None:
    if not os.environ.get("BENCH_PROFILE_DIR"):
        return

    @signals.worker_process_init.connect(weak=False)  # type: ignore[untyped-decorator]
    def _pool_start(**_: Any) -> None:
        _start(app_name, "pool")

    @signals.worker_ready.connect(weak=False)  # type: ignore[untyped-decorator]
    def _main_start(**_: Any) -> None:
        _start(app_name, "main")

    @signals.task_postrun.connect(weak=False)  # type: ignore[untyped-decorator]
    def _after_task(**_: Any) -> None:
        _dump()

    @signals.worker_process_shutdown.connect(weak=False)  # type: ignore[untyped-decorator]
    def _pool_stop(**_: Any) -> None:
        _dump(force=True)

    @signals.worker_shutdown.connect(weak=False)  # type: ignore[untyped-decorator]
    def _main_stop(**_: Any) -> None:
        _dump(force=True)


def __getattr__(name: str) -> Any:
    # Import only the app the worker asks for (each app reads its own settings).
    if name == "control_app":
        from orchestrator.control.app import app

        _configure(app)
        _wire("control")
        globals()["control_app"] = app
        return app
    if name == "children_app":
        from workers.celery_app import app as children

        _configure(children)
        _wire("children")
        globals()["children_app"] = children
        return children
    raise AttributeError(name)

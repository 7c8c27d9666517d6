"""The children worker's Celery app: ``celery -A workers.celery_app worker -Q stepmap.children``.

Built from the one settings tree of every process (:mod:`orchestrator.settings`) and the shared configuration in :mod:`orchestrator.messages`.
"""

from __future__ import annotations

from celery import Celery

from orchestrator import celery_logging, celery_wakeup, messages, telemetry
from orchestrator.settings import Settings, get_settings


def create_app(settings: Settings) -> Celery:
    """A Celery app for child workers with stepmap's tasks registered."""
    # Handlers are imported here, in the worker's main process before it forks: a worker whose
    # handler modules cannot be imported exits at start with the import error, instead of
    # starting, taking messages and failing every one of them in its pool processes.
    from workers.handlers.registry import load_handler_modules

    load_handler_modules(settings.handler_modules)
    app = Celery("stepmap-children")
    app.conf.update(messages.celery_config(settings.broker_url, settings.celery))
    celery_logging.install(app, settings)
    celery_wakeup.install(app)
    telemetry.instrument_worker(settings, "children")
    from workers.tasks import register

    register(app, settings)
    return app


def _create_or_exit() -> Celery:
    """The worker's app; a worker that cannot load its handlers exits with one line saying why."""
    from workers.handlers.registry import HandlerModuleError

    try:
        return create_app(get_settings())
    except HandlerModuleError as exc:
        raise SystemExit(f"error: {exc}") from None


app = _create_or_exit()

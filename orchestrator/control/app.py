"""The control plane's Celery app: ``celery -A orchestrator.control.app worker -Q stepmap.control``.

The worker's main process imports this module and nothing of the control plane's code: the
tasks build it in each pool process on first use (:mod:`orchestrator.control.tasks`).
``celery inspect stepmap_modules`` (:mod:`orchestrator.celery_inspect`) shows what it imported.
"""

from __future__ import annotations

from celery import Celery

from orchestrator import celery_inspect  # noqa: F401 - registers ``stepmap_modules``
from orchestrator import celery_logging, celery_wakeup, messages, telemetry
from orchestrator.settings import Settings, get_settings


def create_app(settings: Settings) -> Celery:
    """A Celery app for the control worker with the control tasks registered."""
    app = Celery("stepmap-control")
    app.conf.update(messages.celery_config(settings.broker_url, settings.celery))
    celery_logging.install(app, settings)
    celery_wakeup.install(app)
    telemetry.instrument_worker(settings, "control")
    from orchestrator.control.tasks import register

    register(app, settings)
    return app


app = create_app(get_settings())

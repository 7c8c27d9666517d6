"""The children worker's Celery app: ``celery -A workers.celery_app worker -Q stepmap.children``.

Built from the one settings tree of every process (:mod:`orchestrator.settings`) and the shared configuration in :mod:`orchestrator.messages`.
"""

from __future__ import annotations

from celery import Celery

from orchestrator import messages
from orchestrator.settings import Settings, get_settings


def create_app(settings: Settings) -> Celery:
    """A Celery app for child workers with stepmap's tasks registered."""
    app = Celery("stepmap-children")
    app.conf.update(messages.celery_config(settings.broker_url, settings.celery))
    from workers.tasks import register

    register(app, settings)
    return app


app = create_app(get_settings())

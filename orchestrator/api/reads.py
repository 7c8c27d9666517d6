"""The operator read model (:class:`orchestrator.insight.InsightReader`) of an API app."""

from __future__ import annotations

from fastapi import FastAPI, Request

from orchestrator.insight import InsightReader, MapRunReads
from orchestrator.settings import Settings


def build_insight(settings: Settings, map_runs: MapRunReads | None) -> InsightReader:
    """An :class:`InsightReader` on the Map Run service and the broker's queues."""
    from orchestrator.store.connect import broker_queues

    return InsightReader(map_runs, broker_queues(settings))


def app_insight(app: FastAPI) -> InsightReader:
    """The app's reader, built on first use from its settings and service."""
    reader: InsightReader | None = getattr(app.state, "insight", None)
    if reader is None:
        reader = build_insight(app.state.settings, app.state.service.map_runs)
        app.state.insight = reader
    return reader


def insight(request: Request) -> InsightReader:
    """FastAPI dependency: the reader of the request's app."""
    return app_insight(request.app)

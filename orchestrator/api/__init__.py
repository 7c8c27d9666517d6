"""The HTTP API: :func:`create_app` builds the FastAPI application."""

from __future__ import annotations

from orchestrator.api.app import build_service, create_app

__all__ = ["build_service", "create_app"]

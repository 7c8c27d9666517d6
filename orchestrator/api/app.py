"""The FastAPI application: AWS JSON 1.0 face at ``/``, resource face at ``/v1``, ``/healthz``.

OpenAPI document at ``/openapi.json``, interactive docs at ``/docs`` and ``/redoc`` (assets
served locally), the web console at ``/console/``, Prometheus metrics at ``/metrics``. Every
request first passes :class:`~orchestrator.api.guard.RequestGuard` (authentication, size, strict
JSON); every error of a face, routing errors included, is answered by
:func:`~orchestrator.api.errors.error_response` in that face's shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator import telemetry
from orchestrator.api import (
    aws_json,
    console,
    docs,
    metrics,
    rest,
    rest_callbacks,
    rest_extensions,
    rest_limits,
    rest_lifecycle,
)
from orchestrator.api.errors import error_response, translate_validation
from orchestrator.api.guard import RequestGuard, is_aws_face
from orchestrator.api.json_response import SafeJSONResponse
from orchestrator.api.request_context import RequestContextMiddleware
from orchestrator.executions.errors import (
    MethodNotAllowed,
    ServiceError,
    UnknownRoute,
    ValidationException,
)
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)


def build_service(settings: Settings) -> StepFunctionsService:
    """The production service: Redis stores, Celery publisher and the Map Run API."""
    from orchestrator.executions.publisher import CeleryPublisher
    from orchestrator.maprun.api import MapRunApi
    from orchestrator.maprun.limits_api import LimitsApi
    from orchestrator.store.connect import open_stores

    stores = open_stores(settings)
    publisher = CeleryPublisher(settings)
    # The Map Run API sends control messages (resume, an admission change: feed at once).
    map_runs = MapRunApi(stores.map_runs, settings, send_task=publisher.send_task)
    limits = LimitsApi(stores.pools, stores.map_runs, settings, publisher.dispatch_map_run)
    return StepFunctionsService(stores.records, settings, publisher, map_runs,
                                callbacks=stores.callbacks, limits=limits)


def create_app(settings: Settings, service: StepFunctionsService | None = None) -> FastAPI:
    """Build the API application.

    Args:
        settings: API settings (auth, tokens, region, account) and store/broker URLs.
        service: the service to serve; built from ``settings`` by :func:`build_service` if omitted.
    """
    app = FastAPI(
        title="stepmap",
        description=(
            "AWS Step Functions with Distributed Map, self-hosted. Two faces on one server: the "
            "AWS JSON 1.0 protocol at `POST /` (point boto3's `endpoint_url` here) and a resource "
            "API under `/v1`."
        ),
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )
    app.state.settings = settings
    app.state.service = service if service is not None else build_service(settings)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc, aws_face=is_aws_face(request.scope))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        aws_face = is_aws_face(request.scope)
        error = translate_validation(list(exc.errors()), aws_face=aws_face)
        return error_response(error, aws_face=aws_face)

    @app.exception_handler(StarletteHTTPException)
    async def routing_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown routes and wrong methods: the face's error shape, never {"detail": ...}.
        method, path = request.method, request.url.path
        error: ServiceError
        if exc.status_code == 405:
            error = MethodNotAllowed(f"Method {method} is not allowed on '{path}'")
        elif exc.status_code == 404:
            error = UnknownRoute(f"No operation at {method} '{path}'")
        else:
            error = ValidationException(f"HTTP {exc.status_code} on '{path}': {exc.detail}")
        return error_response(error, aws_face=is_aws_face(request.scope))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("internal error", exc_info=exc)
        return error_response(exc, aws_face=is_aws_face(request.scope))

    @app.get("/healthz", tags=["health"], summary="Liveness and Redis reachability (no auth)")
    async def healthz(request: Request) -> JSONResponse:
        current: StepFunctionsService = request.app.state.service
        reachable = await run_in_threadpool(current.store.ping)
        return JSONResponse(
            {
                "status": "ok" if reachable else "unavailable",
                "redis": "reachable" if reachable else "unreachable",
            },
            status_code=200 if reachable else 503,
        )

    app.include_router(rest_lifecycle.router)  # before rest: its {arn:path} routes end in /...
    app.include_router(rest_callbacks.router)
    app.include_router(rest_extensions.router)  # before rest: /map-runs/{arn}:pause
    app.include_router(rest_limits.router)  # before rest: /v1/map-runs/{arn}/rate
    app.include_router(rest.router)
    app.include_router(aws_json.router)
    console.install(app)
    docs.install(app)
    metrics.install(app)
    # The last middleware added runs first: every request gets its request id before the guard.
    app.add_middleware(RequestGuard, settings=settings)
    app.add_middleware(RequestContextMiddleware)
    telemetry.instrument_api(app, settings)
    return app

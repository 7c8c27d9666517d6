"""The web console: static pages at ``/console/`` and the one read they need beyond ``/v1``.

The pages are plain HTML, CSS and JavaScript shipped in the package (``api/static/console``);
they call the ``/v1`` face with the bearer token the operator enters (kept in the browser's
local storage), so the console works with auth on. ``GET /`` redirects a browser here (the
AWS JSON face answers ``POST /``).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from orchestrator.api.auth import bearer_scheme, require_token
from orchestrator.api.console_models import FailurePage, FailureRow
from orchestrator.api.reads import insight
from orchestrator.executions.service import StepFunctionsService
from orchestrator.insight import InsightReader

STATIC = files("orchestrator.api") / "static"
CONSOLE_DIR = STATIC / "console"

#: The console loads scripts, styles and data from the API only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)

pages = APIRouter(include_in_schema=False)
router = APIRouter(
    prefix="/console/api",
    tags=["console"],
    dependencies=[Depends(bearer_scheme), Depends(require_token)],
)


@pages.get("/")
def root() -> RedirectResponse:
    """A browser opening the API lands on the console."""
    return RedirectResponse("/console/", status_code=307)


@pages.get("/console")
@pages.get("/console/")
def console_index() -> FileResponse:
    """The console's single page (its views are chosen by the URL fragment)."""
    return FileResponse(str(CONSOLE_DIR / "index.html"), media_type="text/html",
                        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def _failure_rows(service: StepFunctionsService, reader: InsightReader, map_run_arn: str,
                  max_results: int, next_token: str | None) -> FailurePage:
    request: dict[str, Any] = {"mapRunArn": map_run_arn, "statusFilter": "FAILED",
                               "maxResults": max_results}
    if next_token:
        request["nextToken"] = next_token
    page = service.list_executions(request)
    rows = []
    for child in page["executions"]:
        described = service.describe_execution({"executionArn": child["executionArn"]})
        rows.append(FailureRow(
            execution_arn=child["executionArn"],
            name=child["name"],
            index=reader.child_index(child["name"]),
            error=described.get("error"),
            cause=described.get("cause"),
            input=described.get("input"),
            stop_date=child.get("stopDate"),
        ))
    return FailurePage(failures=rows, next_token=page.get("nextToken"))


@router.get("/map-runs/{arn:path}/failures", response_model=FailurePage,
            summary="Failed children of a Map Run with their error, cause and input")
async def map_run_failures(
    request: Request,
    arn: str,
    reader: Annotated[InsightReader, Depends(insight)],
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
) -> FailurePage:
    """One page of FAILED children: ListExecutions + DescribeExecution per row (a page, not a scan)."""
    service: StepFunctionsService = request.app.state.service
    return await run_in_threadpool(_failure_rows, service, reader, arn, max_results, next_token)


def install(app: FastAPI) -> None:
    """Register the console's pages, assets and read on ``app``."""
    app.include_router(pages)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=str(CONSOLE_DIR)), name="console-static")

"""The /v1 face of the stepmap extensions: pause, resume and admission (docs/extensions.md).

* ``POST /v1/map-runs/{arn}:pause`` and ``POST /v1/map-runs/{arn}:resume``: the Map Run's
  pause state ``{mapRunArn, paused, pausedSeconds, pausedDate?}``;
* ``GET /v1/admission``: the open-Map-Run limit, its source, the open count and the backlog;
* ``PUT /v1/admission`` ``{openMapRunLimit}`` or ``{useSettingsLimit: true}``: change it live.

Included before :mod:`orchestrator.api.rest` (its ``/map-runs/{arn:path}`` routes would take
these paths).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from orchestrator.api.auth import bearer_scheme, require_token
from orchestrator.api.aws_extensions import UpdateAdmissionInput
from orchestrator.api.responses import answers
from orchestrator.api.rest import iso_dates
from orchestrator.api.schemas import ErrorBody
from orchestrator.executions.service import StepFunctionsService

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(bearer_scheme), Depends(require_token)],
    responses={status: {"model": ErrorBody} for status in (400, 401, 404)},
    tags=["stepmap extensions"],
)


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class PauseStateOut(_Out):
    """A Map Run's pause state after pause or resume."""

    map_run_arn: str
    paused: bool
    paused_seconds: float = Field(description="Seconds paused so far, the current pause included")
    paused_date: str | None = Field(None, description="When the current pause began")


class QueuedRunOut(_Out):
    """A Map Run waiting in the admission backlog."""

    map_run_arn: str
    queue_position: int


class AdmissionOut(_Out):
    """The admission gate: at most ``openMapRunLimit`` Map Runs open at once (0: no limit)."""

    open_map_run_limit: int
    limit_source: str = Field(description="live (set through the API) or settings")
    settings_limit: int = Field(description="STEPMAP_LIMITS__OPEN_MAP_RUNS")
    open_map_runs: int
    backlog_size: int
    backlog: list[QueuedRunOut] = Field(description="The first 100 queued, in admission order")


def _service(request: Request) -> StepFunctionsService:
    service: StepFunctionsService = request.app.state.service
    return service


@router.post("/map-runs/{arn:path}:pause", summary="Pause a Map Run (stepmap extension)",
             **answers(PauseStateOut))
def pause_map_run(request: Request, arn: str) -> Any:
    """No new child is dispatched until it is resumed; running children finish."""
    return iso_dates(_service(request).stepmap_pause_map_run({"mapRunArn": arn}))


@router.post("/map-runs/{arn:path}:resume", summary="Resume a paused Map Run (stepmap extension)",
             **answers(PauseStateOut))
def resume_map_run(request: Request, arn: str) -> Any:
    """Dispatch again where the run was."""
    return iso_dates(_service(request).stepmap_resume_map_run({"mapRunArn": arn}))


@router.get("/admission", summary="The open-Map-Run limit and backlog (stepmap extension)",
            **answers(AdmissionOut))
def describe_admission(request: Request) -> Any:
    return _service(request).stepmap_describe_admission({})


@router.put("/admission", summary="Change the open-Map-Run limit live (stepmap extension)",
            **answers(AdmissionOut))
def update_admission(request: Request, body: UpdateAdmissionInput) -> Any:
    return _service(request).stepmap_update_admission(body.to_request())

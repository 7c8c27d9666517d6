"""The /v1 face of task callbacks and activities.

Same service methods as the AWS face (AWS camelCase bodies, ISO-8601 dates):

* ``POST /v1/task-tokens/success`` ``{taskToken, output}`` (``output`` may be a JSON value),
  ``/failure`` ``{taskToken, error, cause}``, ``/heartbeat`` ``{taskToken}``;
* ``POST /v1/activities`` ``{name}``, ``GET /v1/activities``, ``GET|DELETE /v1/activities/{arn}``,
  ``POST /v1/activities/{arn}/tasks`` (GetActivityTask's long poll, ``{}`` when none came).

Included before :mod:`orchestrator.api.rest` (its ``{arn:path}`` routes end in a suffix).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from orchestrator.api import aws_callbacks as models
from orchestrator.api.auth import bearer_scheme, require_token
from orchestrator.api.rest import iso_dates
from orchestrator.api.schemas import AwsModel, ErrorBody
from orchestrator.executions.service import StepFunctionsService

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(bearer_scheme), Depends(require_token)],
    responses={status: {"model": ErrorBody} for status in (400, 401, 404)},
)


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class NoMembers(_Out):
    """SendTask*, DeleteActivity."""


class ActivityOut(_Out):
    """CreateActivity, DescribeActivity, an item of ListActivities."""

    activity_arn: str
    name: str | None = None
    creation_date: str


class ActivitiesOut(_Out):
    """ListActivities."""

    activities: list[ActivityOut]
    next_token: str | None = None


class ActivityTaskOut(_Out):
    """GetActivityTask: both absent when no task came within the long poll."""

    task_token: str | None = None
    input: str | None = None


def _out(model: type[BaseModel]) -> dict[str, Any]:
    return {"response_model": model, "response_model_exclude_unset": True}


def _service(request: Request) -> StepFunctionsService:
    service: StepFunctionsService = request.app.state.service
    return service


class SuccessBody(AwsModel):
    """POST /v1/task-tokens/success; ``output`` may be a JSON value instead of JSON text."""

    task_token: str
    output: Any = None


class WorkerBody(AwsModel):
    """POST /v1/activities/{arn}/tasks."""

    worker_name: str | None = None


@router.post("/task-tokens/success", tags=["callbacks"], summary="SendTaskSuccess",
             **_out(NoMembers))
def send_task_success(request: Request, body: SuccessBody) -> Any:
    payload = body.to_request()
    if "output" in payload and not isinstance(payload["output"], str):
        payload["output"] = json.dumps(payload["output"])
    payload.setdefault("output", "null")
    return _service(request).send_task_success(payload)


@router.post("/task-tokens/failure", tags=["callbacks"], summary="SendTaskFailure",
             **_out(NoMembers))
def send_task_failure(request: Request, body: models.SendTaskFailureInput) -> Any:
    return _service(request).send_task_failure(body.to_request())


@router.post("/task-tokens/heartbeat", tags=["callbacks"], summary="SendTaskHeartbeat",
             **_out(NoMembers))
def send_task_heartbeat(request: Request, body: models.SendTaskHeartbeatInput) -> Any:
    return _service(request).send_task_heartbeat(body.to_request())


@router.post("/activities", tags=["activities"], summary="CreateActivity",
             **_out(ActivityOut))
def create_activity(request: Request, body: models.CreateActivityInput) -> Any:
    return iso_dates(_service(request).create_activity(body.to_request()))


@router.get("/activities", tags=["activities"], summary="ListActivities",
             **_out(ActivitiesOut))
def list_activities(request: Request, max_results: int | None = Query(None, alias="maxResults"),
                    next_token: str | None = Query(None, alias="nextToken")) -> Any:
    page = {k: v for k, v in (("maxResults", max_results), ("nextToken", next_token)) if v}
    return iso_dates(_service(request).list_activities(page))


@router.post("/activities/{arn:path}/tasks", tags=["activities"], summary="GetActivityTask",
             **_out(ActivityTaskOut))
async def get_activity_task(request: Request, arn: str, body: WorkerBody) -> Any:
    payload = {**body.to_request(), "activityArn": arn}
    return await models.long_poll(_service(request), payload)


@router.get("/activities/{arn:path}", tags=["activities"], summary="DescribeActivity",
             **_out(ActivityOut))
def describe_activity(request: Request, arn: str) -> Any:
    return iso_dates(_service(request).describe_activity({"activityArn": arn}))


@router.delete("/activities/{arn:path}", tags=["activities"], summary="DeleteActivity",
             **_out(NoMembers))
def delete_activity(request: Request, arn: str) -> Any:
    return _service(request).delete_activity({"activityArn": arn})

"""The resource-style /v1 face: state machines, executions and Map Runs.

Every route calls the same :class:`StepFunctionsService` method as the AWS face, so requests
and responses carry the AWS camelCase fields; dates are ISO-8601 strings here. ARNs contain
``:`` and ``/``, so they are ``{arn:path}`` parameters (sent raw or percent-encoded); routes
with a suffix (``/stop``, ``/history`` ...) are declared before the bare ``{arn:path}`` ones.
Errors: ``{"error": code, "message", "reason"?, "problems"?}`` with the status of
:data:`orchestrator.api.errors.ERROR_TABLE`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from orchestrator.api import responses, schemas
from orchestrator.api.auth import bearer_scheme, require_token
from orchestrator.executions.service import StepFunctionsService

DATE_KEYS = frozenset(
    {"creationDate", "startDate", "stopDate", "redriveDate", "updateDate", "timestamp",
     "pausedDate", "queuedDate", "admittedDate"}
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.ErrorBody} for status in (400, 401, 404, 405, 409, 413, 503)
}

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(bearer_scheme), Depends(require_token)],
    responses=_ERRORS,
)


def iso_dates(value: Any, key: str | None = None) -> Any:
    """A response with every epoch-seconds date field turned into an ISO-8601 string."""
    if isinstance(value, dict):
        return {k: iso_dates(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [iso_dates(item) for item in value]
    if key in DATE_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return value


def _service(request: Request) -> StepFunctionsService:
    service: StepFunctionsService = request.app.state.service
    return service


def _clean(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _as_json_text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else json.dumps(value)


# -- state machines -----------------------------------------------------------------------------


@router.post(
    "/state-machines",
    tags=["state machines"],
    summary="CreateStateMachine",
    **responses.answers(responses.CreateStateMachineOutput),
)
def create_state_machine(request: Request, body: schemas.CreateStateMachineBody) -> Any:
    payload = body.to_request()
    payload["definition"] = _as_json_text(body.definition)
    return iso_dates(_service(request).create_state_machine(payload))


@router.get(
    "/state-machines",
    tags=["state machines"],
    summary="ListStateMachines",
    **responses.answers(responses.ListStateMachinesOutput),
)
def list_state_machines(
    request: Request,
    max_results: int | None = Query(None, alias="maxResults"),
    next_token: str | None = Query(None, alias="nextToken"),
) -> Any:
    payload = _clean(maxResults=max_results, nextToken=next_token)
    return iso_dates(_service(request).list_state_machines(payload))


@router.post(
    "/state-machines/validate",
    tags=["state machines"],
    summary="ValidateStateMachineDefinition",
    **responses.answers(responses.ValidateDefinitionOutput),
)
def validate_state_machine_definition(
    request: Request, body: schemas.ValidateDefinitionBody
) -> Any:
    payload = body.to_request()
    payload["definition"] = _as_json_text(body.definition)
    return _service(request).validate_state_machine_definition(payload)


@router.get(
    "/state-machines/{arn:path}",
    tags=["state machines"],
    summary="DescribeStateMachine",
    **responses.answers(responses.DescribeStateMachineOutput),
)
def describe_state_machine(
    request: Request, arn: str, included_data: str | None = Query(None, alias="includedData")
) -> Any:
    payload = _clean(stateMachineArn=arn, includedData=included_data)
    return iso_dates(_service(request).describe_state_machine(payload))


@router.delete(
    "/state-machines/{arn:path}",
    tags=["state machines"],
    summary="DeleteStateMachine",
    **responses.answers(responses.Empty),
)
def delete_state_machine(request: Request, arn: str) -> Any:
    return _service(request).delete_state_machine({"stateMachineArn": arn})


# -- executions ---------------------------------------------------------------------------------


@router.post(
    "/executions",
    tags=["executions"],
    summary="StartExecution",
    **responses.answers(responses.StartExecutionOutput),
)
def start_execution(request: Request, body: schemas.StartExecutionBody) -> Any:
    payload = body.to_request()
    if "input" in payload:
        payload["input"] = _as_json_text(payload["input"])
    return iso_dates(_service(request).start_execution(payload))


@router.get(
    "/executions",
    tags=["executions"],
    summary="ListExecutions",
    **responses.answers(responses.ListExecutionsOutput),
)
def list_executions(
    request: Request,
    state_machine_arn: str | None = Query(None, alias="stateMachineArn"),
    map_run_arn: str | None = Query(None, alias="mapRunArn"),
    status_filter: str | None = Query(None, alias="statusFilter"),
    redrive_filter: str | None = Query(None, alias="redriveFilter"),
    max_results: int | None = Query(None, alias="maxResults"),
    next_token: str | None = Query(None, alias="nextToken"),
) -> Any:
    payload = _clean(
        stateMachineArn=state_machine_arn,
        mapRunArn=map_run_arn,
        statusFilter=status_filter,
        redriveFilter=redrive_filter,
        maxResults=max_results,
        nextToken=next_token,
    )
    return iso_dates(_service(request).list_executions(payload))


@router.get(
    "/executions/{arn:path}/history",
    tags=["executions"],
    summary="GetExecutionHistory",
    **responses.answers(responses.GetExecutionHistoryOutput),
)
def get_execution_history(
    request: Request,
    arn: str,
    max_results: int | None = Query(None, alias="maxResults"),
    reverse_order: bool | None = Query(None, alias="reverseOrder"),
    next_token: str | None = Query(None, alias="nextToken"),
    include_execution_data: bool | None = Query(None, alias="includeExecutionData"),
) -> Any:
    payload = _clean(
        executionArn=arn,
        maxResults=max_results,
        reverseOrder=reverse_order,
        nextToken=next_token,
        includeExecutionData=include_execution_data,
    )
    return iso_dates(_service(request).get_execution_history(payload))


@router.get(
    "/executions/{arn:path}/map-runs",
    tags=["map runs"],
    summary="ListMapRuns",
    **responses.answers(responses.ListMapRunsOutput),
)
def list_map_runs(
    request: Request,
    arn: str,
    max_results: int | None = Query(None, alias="maxResults"),
    next_token: str | None = Query(None, alias="nextToken"),
) -> Any:
    payload = _clean(executionArn=arn, maxResults=max_results, nextToken=next_token)
    return iso_dates(_service(request).list_map_runs(payload))


@router.get(
    "/executions/{arn:path}/state-machine",
    tags=["executions"],
    summary="DescribeStateMachineForExecution",
    **responses.answers(responses.DescribeStateMachineForExecutionOutput),
)
def describe_state_machine_for_execution(
    request: Request, arn: str, included_data: str | None = Query(None, alias="includedData")
) -> Any:
    payload = _clean(executionArn=arn, includedData=included_data)
    return iso_dates(_service(request).describe_state_machine_for_execution(payload))


@router.post(
    "/executions/{arn:path}/stop",
    tags=["executions"],
    summary="StopExecution",
    **responses.answers(responses.StopExecutionOutput),
)
def stop_execution(
    request: Request, arn: str, body: Annotated[schemas.StopExecutionBody | None, Body()] = None
) -> Any:
    payload = {"executionArn": arn, **(body.to_request() if body else {})}
    return iso_dates(_service(request).stop_execution(payload))


@router.post(
    "/executions/{arn:path}/redrive",
    tags=["executions"],
    summary="RedriveExecution",
    **responses.answers(responses.RedriveExecutionOutput),
)
def redrive_execution(
    request: Request, arn: str, body: Annotated[schemas.RedriveExecutionBody | None, Body()] = None
) -> Any:
    payload = {"executionArn": arn, **(body.to_request() if body else {})}
    return iso_dates(_service(request).redrive_execution(payload))


@router.get(
    "/executions/{arn:path}",
    tags=["executions"],
    summary="DescribeExecution",
    **responses.answers(responses.DescribeExecutionOutput),
)
def describe_execution(
    request: Request, arn: str, included_data: str | None = Query(None, alias="includedData")
) -> Any:
    payload = _clean(executionArn=arn, includedData=included_data)
    return iso_dates(_service(request).describe_execution(payload))


# -- map runs -----------------------------------------------------------------------------------


@router.get(
    "/map-runs/{arn:path}/executions",
    tags=["map runs"],
    summary="ListExecutions of a Map Run",
    **responses.answers(responses.ListExecutionsOutput),
)
def list_map_run_executions(
    request: Request,
    arn: str,
    status_filter: str | None = Query(None, alias="statusFilter"),
    redrive_filter: str | None = Query(None, alias="redriveFilter"),
    max_results: int | None = Query(None, alias="maxResults"),
    next_token: str | None = Query(None, alias="nextToken"),
) -> Any:
    payload = _clean(
        mapRunArn=arn,
        statusFilter=status_filter,
        redriveFilter=redrive_filter,
        maxResults=max_results,
        nextToken=next_token,
    )
    return iso_dates(_service(request).list_executions(payload))


@router.get(
    "/map-runs/{arn:path}",
    tags=["map runs"],
    summary="DescribeMapRun",
    **responses.answers(responses.DescribeMapRunOutput),
)
def describe_map_run(request: Request, arn: str) -> Any:
    return iso_dates(_service(request).describe_map_run({"mapRunArn": arn}))


@router.patch(
    "/map-runs/{arn:path}",
    tags=["map runs"],
    summary="UpdateMapRun",
    **responses.answers(responses.Empty),
)
def update_map_run(request: Request, arn: str, body: schemas.UpdateMapRunBody) -> Any:
    return _service(request).update_map_run({"mapRunArn": arn, **body.to_request()})

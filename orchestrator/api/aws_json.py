"""The AWS JSON 1.0 face: ``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Operation>``.

Bodies and responses follow the botocore model; dates are epoch seconds (numbers), which
boto3 turns into datetimes. Errors are HTTP 400 with ``{"__type": code, "message": ...}`` and
the ``x-amzn-ErrorType`` header (500 with ``InternalFailure`` for bugs, 503
``ServiceUnavailable`` when Redis cannot be reached). Authentication (tokens, SigV4
signatures) happens before the route, in :mod:`orchestrator.api.guard` with
:mod:`orchestrator.api.auth`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from orchestrator.api import aws_callbacks, aws_extensions, aws_lifecycle, limits_schemas, schemas
from orchestrator.api.auth import aws_operation
from orchestrator.api.errors import error_response, lookup, translate_validation
from orchestrator.api.json_response import SafeJSONResponse
from orchestrator.executions.errors import SerializationException, UnknownOperation
from orchestrator.executions.service import StepFunctionsService

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.0"

#: Operation -> (request model, service method name).
OPERATIONS: dict[str, tuple[type[schemas.AwsModel], str]] = {
    "CreateStateMachine": (schemas.CreateStateMachineInput, "create_state_machine"),
    "DescribeStateMachine": (schemas.DescribeStateMachineInput, "describe_state_machine"),
    "ListStateMachines": (schemas.ListStateMachinesInput, "list_state_machines"),
    "DeleteStateMachine": (schemas.DeleteStateMachineInput, "delete_state_machine"),
    "ValidateStateMachineDefinition": (
        schemas.ValidateStateMachineDefinitionInput,
        "validate_state_machine_definition",
    ),
    "StartExecution": (schemas.StartExecutionInput, "start_execution"),
    "DescribeExecution": (schemas.DescribeExecutionInput, "describe_execution"),
    "StopExecution": (schemas.StopExecutionInput, "stop_execution"),
    "ListExecutions": (schemas.ListExecutionsInput, "list_executions"),
    "GetExecutionHistory": (schemas.GetExecutionHistoryInput, "get_execution_history"),
    "RedriveExecution": (schemas.RedriveExecutionInput, "redrive_execution"),
    "DescribeStateMachineForExecution": (
        schemas.DescribeStateMachineForExecutionInput,
        "describe_state_machine_for_execution",
    ),
    "ListMapRuns": (schemas.ListMapRunsInput, "list_map_runs"),
    "DescribeMapRun": (schemas.DescribeMapRunInput, "describe_map_run"),
    "UpdateMapRun": (schemas.UpdateMapRunInput, "update_map_run"),
    **aws_lifecycle.OPERATIONS,
    **aws_callbacks.OPERATIONS,
    **aws_extensions.OPERATIONS,
    # stepmap extensions (docs/limits.md): no AWS SDK sends these names
    "StepmapCreatePool": (limits_schemas.CreatePoolInput, "stepmap_create_pool"),
    "StepmapDescribePool": (limits_schemas.PoolNameInput, "stepmap_describe_pool"),
    "StepmapListPools": (limits_schemas.ListPoolsInput, "stepmap_list_pools"),
    "StepmapUpdatePool": (limits_schemas.UpdatePoolInput, "stepmap_update_pool"),
    "StepmapDeletePool": (limits_schemas.PoolNameInput, "stepmap_delete_pool"),
    "StepmapUpdateMapRunRate": (limits_schemas.UpdateMapRunRateInput,
                                "stepmap_update_map_run_rate"),
}

router = APIRouter(tags=["AWS JSON 1.0"])


def _error_response(exc: BaseException) -> JSONResponse:
    status, _code = lookup(exc)
    if status >= 500:
        logger.exception("internal error on the AWS face", exc_info=exc)
    return error_response(exc, aws_face=True)


def _parse(body: bytes, model: type[BaseModel]) -> dict[str, Any]:
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError as exc:
        raise SerializationException(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SerializationException("Request body must be a JSON object")
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise translate_validation(exc.errors(), aws_face=True) from None
    assert isinstance(parsed, schemas.AwsModel)
    return parsed.to_request()


@router.post(
    "/",
    summary="AWS Step Functions JSON 1.0 protocol",
    description="Send `X-Amz-Target: AWSStepFunctions.<Operation>` with an AWS-shaped JSON body.",
)
async def aws_json(request: Request) -> JSONResponse:
    """Dispatch one AWS JSON 1.0 call to the service."""
    try:
        target = request.headers.get("x-amz-target", "")
        operation = aws_operation(request)
        body = await request.body()
        if operation not in OPERATIONS:
            raise UnknownOperation(f"Unknown operation: '{target}'")
        model, method = OPERATIONS[operation]
        payload = _parse(body, model)
        service: StepFunctionsService = request.app.state.service
        if operation in aws_callbacks.LONG_POLLED:
            result = await aws_callbacks.long_poll(service, payload)
        else:
            result = await run_in_threadpool(getattr(service, method), payload)
    except Exception as exc:  # every failure becomes an AWS error body
        return _error_response(exc)
    return SafeJSONResponse(result, media_type=CONTENT_TYPE)

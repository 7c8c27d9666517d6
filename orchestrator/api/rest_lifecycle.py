"""The /v1 face of the state machine lifecycle (update, versions, aliases, tags), TestState and
StartSyncExecution.

Same service methods as the AWS face (AWS camelCase bodies, ISO-8601 dates). Routes with a
suffix on a ``{arn:path}`` are here, and this router is included before
:mod:`orchestrator.api.rest` so ``/state-machines/{arn}/versions`` is not read as an ARN.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from orchestrator.api import aws_lifecycle as models
from orchestrator.api import responses
from orchestrator.api.auth import bearer_scheme, require_token
from orchestrator.api.rest import iso_dates
from orchestrator.api.schemas import AwsModel, ErrorBody
from orchestrator.executions.service import StepFunctionsService

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(bearer_scheme), Depends(require_token)],
    responses={status: {"model": ErrorBody} for status in (400, 401, 404, 409)},
)


def _service(request: Request) -> StepFunctionsService:
    service: StepFunctionsService = request.app.state.service
    return service


def _page(max_results: int | None, next_token: str | None) -> dict[str, Any]:
    return {k: v for k, v in (("maxResults", max_results), ("nextToken", next_token)) if v}


class UpdateStateMachineBody(AwsModel):
    """PATCH /v1/state-machines/{arn}; ``definition`` may be a JSON object."""

    definition: str | dict[str, Any] | None = None
    role_arn: str | None = None
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None
    publish: bool | None = None
    version_description: str | None = None
    encryption_configuration: dict[str, Any] | None = None


class PublishVersionBody(AwsModel):
    """POST /v1/state-machines/{arn}/versions."""

    revision_id: str | None = None
    description: str | None = None


class UpdateAliasBody(AwsModel):
    """PATCH /v1/aliases/{arn}."""

    description: str | None = None
    routing_configuration: list[dict[str, Any]] | None = None


class TestStateBody(AwsModel):
    """POST /v1/test-state; ``input``, ``variables`` and ``context`` may be JSON values."""

    __test__ = False  # not a pytest test class

    definition: str | dict[str, Any]
    role_arn: str | None = None
    input: Any = None
    inspection_level: str | None = None
    variables: Any = None
    state_name: str | None = None
    mock: dict[str, Any] | None = None
    context: Any = None
    state_configuration: dict[str, Any] | None = None


class StartSyncBody(AwsModel):
    """POST /v1/executions/sync; ``input`` may be any JSON value."""

    state_machine_arn: str
    name: str | None = None
    input: Any = None
    trace_header: str | None = None
    included_data: str | None = None


def _text_fields(payload: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if name in payload and not isinstance(payload[name], str):
            payload[name] = json.dumps(payload[name])
    return payload


class TagsBody(AwsModel):
    """POST /v1/tags/{arn}."""

    tags: list[dict[str, Any]]


@router.patch(
    "/state-machines/{arn:path}",
    tags=["state machines"],
    summary="UpdateStateMachine",
    **responses.answers(responses.UpdateStateMachineOutput),
)
def update_state_machine(request: Request, arn: str, body: UpdateStateMachineBody) -> Any:
    payload = _text_fields(body.to_request(), "definition")
    payload["stateMachineArn"] = arn
    return iso_dates(_service(request).update_state_machine(payload))


@router.post(
    "/state-machines/{arn:path}/versions",
    tags=["versions"],
    summary="PublishStateMachineVersion",
    **responses.answers(responses.PublishStateMachineVersionOutput),
)
def publish_state_machine_version(request: Request, arn: str, body: PublishVersionBody) -> Any:
    payload = {**body.to_request(), "stateMachineArn": arn}
    return iso_dates(_service(request).publish_state_machine_version(payload))


@router.get(
    "/state-machines/{arn:path}/versions",
    tags=["versions"],
    summary="ListStateMachineVersions",
    **responses.answers(responses.ListStateMachineVersionsOutput),
)
def list_state_machine_versions(
    request: Request,
    arn: str,
    max_results: int | None = Query(None, alias="maxResults"),
    next_token: str | None = Query(None, alias="nextToken"),
) -> Any:
    payload = {"stateMachineArn": arn, **_page(max_results, next_token)}
    return iso_dates(_service(request).list_state_machine_versions(payload))


@router.delete(
    "/versions/{arn:path}",
    tags=["versions"],
    summary="DeleteStateMachineVersion",
    **responses.answers(responses.Empty),
)
def delete_state_machine_version(request: Request, arn: str) -> Any:
    return _service(request).delete_state_machine_version({"stateMachineVersionArn": arn})


@router.get(
    "/state-machines/{arn:path}/aliases",
    tags=["aliases"],
    summary="ListStateMachineAliases",
    **responses.answers(responses.ListStateMachineAliasesOutput),
)
def list_state_machine_aliases(
    request: Request,
    arn: str,
    max_results: int | None = Query(None, alias="maxResults"),
    next_token: str | None = Query(None, alias="nextToken"),
) -> Any:
    payload = {"stateMachineArn": arn, **_page(max_results, next_token)}
    return iso_dates(_service(request).list_state_machine_aliases(payload))


@router.post(
    "/aliases",
    tags=["aliases"],
    summary="CreateStateMachineAlias",
    **responses.answers(responses.CreateStateMachineAliasOutput),
)
def create_state_machine_alias(
    request: Request, body: models.CreateStateMachineAliasInput
) -> Any:
    return iso_dates(_service(request).create_state_machine_alias(body.to_request()))


@router.get(
    "/aliases/{arn:path}",
    tags=["aliases"],
    summary="DescribeStateMachineAlias",
    **responses.answers(responses.DescribeStateMachineAliasOutput),
)
def describe_state_machine_alias(request: Request, arn: str) -> Any:
    payload = {"stateMachineAliasArn": arn}
    return iso_dates(_service(request).describe_state_machine_alias(payload))


@router.patch(
    "/aliases/{arn:path}",
    tags=["aliases"],
    summary="UpdateStateMachineAlias",
    **responses.answers(responses.UpdateStateMachineAliasOutput),
)
def update_state_machine_alias(request: Request, arn: str, body: UpdateAliasBody) -> Any:
    payload = {**body.to_request(), "stateMachineAliasArn": arn}
    return iso_dates(_service(request).update_state_machine_alias(payload))


@router.delete(
    "/aliases/{arn:path}",
    tags=["aliases"],
    summary="DeleteStateMachineAlias",
    **responses.answers(responses.Empty),
)
def delete_state_machine_alias(request: Request, arn: str) -> Any:
    return _service(request).delete_state_machine_alias({"stateMachineAliasArn": arn})


@router.post(
    "/test-state",
    tags=["state machines"],
    summary="TestState",
    **responses.answers(responses.TestStateOutput),
)
def test_state(request: Request, body: TestStateBody) -> Any:
    payload = _text_fields(body.to_request(), "definition", "input", "variables", "context")
    return _service(request).test_state(payload)


@router.post(
    "/executions/sync",
    tags=["executions"],
    summary="StartSyncExecution",
    **responses.answers(responses.StartSyncExecutionOutput),
)
def start_sync_execution(request: Request, body: StartSyncBody) -> Any:
    payload = _text_fields(body.to_request(), "input")
    return iso_dates(_service(request).start_sync_execution(payload))


@router.get(
    "/tags/{arn:path}",
    tags=["tags"],
    summary="ListTagsForResource",
    **responses.answers(responses.ListTagsForResourceOutput),
)
def list_tags_for_resource(request: Request, arn: str) -> Any:
    return _service(request).list_tags_for_resource({"resourceArn": arn})


@router.post(
    "/tags/{arn:path}",
    tags=["tags"],
    summary="TagResource",
    **responses.answers(responses.Empty),
)
def tag_resource(request: Request, arn: str, body: TagsBody) -> Any:
    return _service(request).tag_resource({"resourceArn": arn, "tags": body.tags})


@router.delete(
    "/tags/{arn:path}",
    tags=["tags"],
    summary="UntagResource",
    **responses.answers(responses.Empty),
)
def untag_resource(
    request: Request, arn: str, tag_keys: list[str] = Query(..., alias="tagKeys")
) -> Any:
    return _service(request).untag_resource({"resourceArn": arn, "tagKeys": tag_keys})

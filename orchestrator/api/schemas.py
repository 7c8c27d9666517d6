"""Request models of the Step Functions operations, with AWS camelCase aliases.

Field types follow the botocore model (``stepfunctions/2016-11-23``); constraints on values
(lengths, ranges, enums) are checked by the service so both faces report them with AWS's
wording. Models are strict: a number where a string belongs is a type error, not coerced.
Unknown members are ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class AwsModel(BaseModel):
    """Base: camelCase aliases, strict types, unknown members ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True
    )

    def to_request(self) -> dict[str, Any]:
        """The AWS-shaped request dict the service takes."""
        return self.model_dump(by_alias=True, exclude_none=True)


class CreateStateMachineInput(AwsModel):
    name: str
    definition: str
    role_arn: str
    type: str | None = None
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None
    tags: list[dict[str, Any]] | None = None
    publish: bool | None = None
    version_description: str | None = None
    encryption_configuration: dict[str, Any] | None = None


class DescribeStateMachineInput(AwsModel):
    state_machine_arn: str
    included_data: str | None = None


class ListStateMachinesInput(AwsModel):
    max_results: int | None = None
    next_token: str | None = None


class DeleteStateMachineInput(AwsModel):
    state_machine_arn: str


class ValidateStateMachineDefinitionInput(AwsModel):
    definition: str
    type: str | None = None
    severity: str | None = None
    max_results: int | None = None


class StartExecutionInput(AwsModel):
    state_machine_arn: str
    name: str | None = None
    input: str | None = None
    trace_header: str | None = None
    #: stepmap extension (docs/limits.md): pools and rates of the execution's Map Runs.
    stepmap_binding: dict[str, Any] | None = None


class DescribeExecutionInput(AwsModel):
    execution_arn: str
    included_data: str | None = None


class StopExecutionInput(AwsModel):
    execution_arn: str
    error: str | None = None
    cause: str | None = None


class ListExecutionsInput(AwsModel):
    state_machine_arn: str | None = None
    status_filter: str | None = None
    max_results: int | None = None
    next_token: str | None = None
    map_run_arn: str | None = None
    redrive_filter: str | None = None


class GetExecutionHistoryInput(AwsModel):
    execution_arn: str
    max_results: int | None = None
    reverse_order: bool | None = None
    next_token: str | None = None
    include_execution_data: bool | None = None


class RedriveExecutionInput(AwsModel):
    execution_arn: str
    client_token: str | None = None


class DescribeStateMachineForExecutionInput(AwsModel):
    execution_arn: str
    included_data: str | None = None


class ListMapRunsInput(AwsModel):
    execution_arn: str
    max_results: int | None = None
    next_token: str | None = None


class DescribeMapRunInput(AwsModel):
    map_run_arn: str


class UpdateMapRunInput(AwsModel):
    map_run_arn: str
    max_concurrency: int | None = None
    tolerated_failure_percentage: float | None = None
    tolerated_failure_count: int | None = None


# -- /v1 bodies -------------------------------------------------------------------------------


class CreateStateMachineBody(CreateStateMachineInput):
    """POST /v1/state-machines: like CreateStateMachine; ``definition`` may be a JSON object."""

    definition: str | dict[str, Any]  # type: ignore[assignment]
    role_arn: str = "arn:aws:iam::000000000000:role/stepmap"


class ValidateDefinitionBody(ValidateStateMachineDefinitionInput):
    """POST /v1/state-machines/validate; ``definition`` may be a JSON object."""

    definition: str | dict[str, Any]  # type: ignore[assignment]


class StartExecutionBody(StartExecutionInput):
    """POST /v1/executions; ``input`` may be any JSON value (sent on as its JSON text)."""

    input: Any = None


class StopExecutionBody(AwsModel):
    """POST /v1/executions/{arn}/stop."""

    error: str | None = None
    cause: str | None = None


class RedriveExecutionBody(AwsModel):
    """POST /v1/executions/{arn}/redrive."""

    client_token: str | None = None


class UpdateMapRunBody(AwsModel):
    """PATCH /v1/map-runs/{arn}."""

    max_concurrency: int | None = None
    tolerated_failure_percentage: float | None = None
    tolerated_failure_count: int | None = None


class ErrorBody(BaseModel):
    """Error response of the /v1 face."""

    error: str
    message: str
    reason: str | None = None
    problems: list[dict[str, str]] | None = None

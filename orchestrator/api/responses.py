"""Response models of the ``/v1`` routes, for the OpenAPI document.

They describe what the service returns in AWS's camelCase shapes (dates as ISO-8601 strings on
this face). Members the model does not list are kept (``extra="allow"``), and routes use
``response_model_exclude_unset`` so absent members stay absent: the models document the
responses without reshaping them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Response(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Empty(_Response):
    """An operation that returns no members (DeleteStateMachine, UpdateMapRun)."""


# -- state machines ---------------------------------------------------------------------------


class CreateStateMachineOutput(_Response):
    """CreateStateMachine."""

    state_machine_arn: str
    creation_date: str
    state_machine_version_arn: str | None = None


class StateMachineListItem(_Response):
    """One state machine of ListStateMachines."""

    state_machine_arn: str
    name: str
    type: str = Field(description="STANDARD or EXPRESS")
    creation_date: str


class ListStateMachinesOutput(_Response):
    """ListStateMachines."""

    state_machines: list[StateMachineListItem]
    next_token: str | None = None


class DescribeStateMachineOutput(_Response):
    """DescribeStateMachine."""

    state_machine_arn: str
    name: str
    status: str | None = None
    definition: str = Field(description="The Amazon States Language definition (JSON text).")
    role_arn: str
    type: str
    creation_date: str
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None
    label: str | None = None
    revision_id: str | None = None
    description: str | None = None


class DescribeStateMachineForExecutionOutput(_Response):
    """DescribeStateMachineForExecution."""

    state_machine_arn: str
    name: str
    definition: str
    role_arn: str
    update_date: str
    map_run_arn: str | None = None
    label: str | None = None
    revision_id: str | None = None


class Diagnostic(_Response):
    """One problem found by ValidateStateMachineDefinition."""

    severity: str
    code: str
    message: str
    location: str | None = None


class ValidateDefinitionOutput(_Response):
    """ValidateStateMachineDefinition."""

    result: str = Field(description="OK or FAIL")
    diagnostics: list[Diagnostic]
    truncated: bool | None = None


# -- executions --------------------------------------------------------------------------------


class StartExecutionOutput(_Response):
    """StartExecution."""

    execution_arn: str
    start_date: str


class ExecutionListItem(_Response):
    """One execution of ListExecutions (a parent, or a Map Run's child)."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    start_date: str
    stop_date: str | None = None
    map_run_arn: str | None = None
    item_count: int | None = None
    redrive_count: int | None = None
    redrive_date: str | None = None


class ListExecutionsOutput(_Response):
    """ListExecutions."""

    executions: list[ExecutionListItem]
    next_token: str | None = None


class DescribeExecutionOutput(_Response):
    """DescribeExecution of a parent or of a Map Run's child."""

    execution_arn: str
    state_machine_arn: str
    name: str | None = None
    status: str = Field(description="RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or "
                        "PENDING_REDRIVE")
    start_date: str
    stop_date: str | None = None
    input: str | None = Field(None, description="JSON text")
    input_details: dict[str, Any] | None = None
    output: str | None = Field(None, description="JSON text")
    output_details: dict[str, Any] | None = None
    trace_header: str | None = None
    map_run_arn: str | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int | None = None
    redrive_date: str | None = None
    redrive_status: str | None = None
    redrive_status_reason: str | None = None


class HistoryEvent(_Response):
    """One history event; its ``<type>EventDetails`` member carries the details."""

    id: int
    type: str
    timestamp: str
    previous_event_id: int | None = None


class GetExecutionHistoryOutput(_Response):
    """GetExecutionHistory."""

    events: list[HistoryEvent]
    next_token: str | None = None


class StopExecutionOutput(_Response):
    """StopExecution."""

    stop_date: str


class RedriveExecutionOutput(_Response):
    """RedriveExecution."""

    redrive_date: str


# -- map runs -----------------------------------------------------------------------------------


class MapRunListItem(_Response):
    """One Map Run of ListMapRuns."""

    execution_arn: str
    map_run_arn: str
    state_machine_arn: str
    start_date: str
    stop_date: str | None = None


class ListMapRunsOutput(_Response):
    """ListMapRuns."""

    map_runs: list[MapRunListItem]
    next_token: str | None = None


class MapRunCounts(_Response):
    """Item or child execution counts; pending + running + succeeded + failed + timedOut +
    aborted = total."""

    pending: int
    running: int
    succeeded: int
    failed: int
    timed_out: int
    aborted: int
    total: int
    results_written: int
    failures_not_redrivable: int | None = None
    pending_redrive: int | None = None


class DescribeMapRunOutput(_Response):
    """DescribeMapRun."""

    map_run_arn: str
    execution_arn: str
    status: str = Field(description="RUNNING, SUCCEEDED, FAILED or ABORTED")
    start_date: str
    stop_date: str | None = None
    max_concurrency: int
    tolerated_failure_percentage: float
    tolerated_failure_count: int
    item_counts: MapRunCounts
    execution_counts: MapRunCounts
    redrive_count: int | None = None
    redrive_date: str | None = None

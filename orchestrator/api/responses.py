"""Response models of the ``/v1`` routes, for the OpenAPI document.

They describe what the service returns in AWS's camelCase shapes (dates as ISO-8601 strings on
this face). Members the model does not list are kept (``extra="allow"``), and routes use
``response_model_exclude_unset`` so absent members stay absent: the models document the
responses without reshaping them. Pydantic writes the declared members first, in their order,
then the others: members are declared in the order the service answers them, so the bytes of a
response are the same with the model as without it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def answers(model: type[BaseModel]) -> dict[str, Any]:
    """Route options documenting ``model`` as the answer without reshaping it (absent members
    stay absent)."""
    return {"response_model": model, "response_model_exclude_unset": True}


class _Response(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Empty(_Response):
    """An operation that returns no members (DeleteStateMachine, UpdateMapRun,
    DeleteStateMachineVersion, DeleteStateMachineAlias, TagResource, UntagResource)."""


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


class MapRunExtensionFields(_Response):
    """DescribeMapRun's ``stepmap`` member: pause, admission, rates and pools (not on AWS;
    SDKs skip it)."""

    paused: bool
    paused_seconds: float = Field(description="Seconds paused, the current pause included")
    queued: bool = Field(description="Waiting in the admission backlog (status shows RUNNING)")
    paused_date: str | None = None
    queue_position: int | None = Field(None, description="1-based place in admission order")
    queued_date: str | None = None
    admitted_date: str | None = None
    items_per_second: float | None = Field(None, description="Rate limit of items (docs/limits.md)")
    children_per_second: float | None = Field(None, description="Rate limit of children")
    pools: list[str] | None = Field(None, description="Named pools the Map Run draws permits from")


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
    stepmap: MapRunExtensionFields | None = None


# -- versions and aliases -----------------------------------------------------------------------


class UpdateStateMachineOutput(_Response):
    """UpdateStateMachine."""

    update_date: str
    revision_id: str | None = None
    state_machine_version_arn: str | None = Field(None, description="With publish: true")


class PublishStateMachineVersionOutput(_Response):
    """PublishStateMachineVersion."""

    creation_date: str
    state_machine_version_arn: str


class StateMachineVersionListItem(_Response):
    """One version of ListStateMachineVersions, newest first."""

    state_machine_version_arn: str
    creation_date: str


class ListStateMachineVersionsOutput(_Response):
    """ListStateMachineVersions."""

    state_machine_versions: list[StateMachineVersionListItem]
    next_token: str | None = None


class StateMachineAliasListItem(_Response):
    """One alias of ListStateMachineAliases."""

    state_machine_alias_arn: str
    creation_date: str


class ListStateMachineAliasesOutput(_Response):
    """ListStateMachineAliases."""

    state_machine_aliases: list[StateMachineAliasListItem]
    next_token: str | None = None


class CreateStateMachineAliasOutput(StateMachineAliasListItem):
    """CreateStateMachineAlias."""


class RoutingConfigurationListItem(_Response):
    """One version an alias routes to, with its share of the executions."""

    state_machine_version_arn: str
    weight: int = Field(description="0 to 100; the weights of an alias add up to 100")


class DescribeStateMachineAliasOutput(_Response):
    """DescribeStateMachineAlias."""

    state_machine_alias_arn: str | None = None
    name: str | None = None
    routing_configuration: list[RoutingConfigurationListItem] | None = None
    creation_date: str | None = None
    update_date: str | None = None
    description: str | None = None


class UpdateStateMachineAliasOutput(_Response):
    """UpdateStateMachineAlias."""

    update_date: str


# -- TestState and StartSyncExecution -----------------------------------------------------------


class InspectionErrorDetails(_Response):
    """The Catch that took the error, or the Retry that retries it now."""

    catch_index: int | None = None
    retry_index: int | None = None
    retry_backoff_interval_seconds: int | None = None


class InspectionData(_Response):
    """Each processing step of the tested state; the data members are JSON text."""

    input: str | None = None
    after_input_path: str | None = None
    after_items_path: str | None = None
    max_concurrency: int | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: float | None = None
    after_parameters: str | None = None
    result: str | None = None
    after_result_selector: str | None = None
    after_result_path: str | None = None
    variables: str | None = None
    error_details: InspectionErrorDetails | None = None


class TestStateOutput(_Response):
    """TestState; ``inspectionData`` with inspectionLevel DEBUG or TRACE."""

    __test__ = False  # not a pytest test class

    status: str | None = Field(None, description="SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR")
    output: str | None = Field(None, description="JSON text")
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection_data: InspectionData | None = None


class DataDetails(_Response):
    """Whether the execution's input or output is included."""

    included: bool | None = None


class BillingDetails(_Response):
    """What an EXPRESS execution is billed for."""

    billed_memory_used_in_mb: int | None = Field(None, alias="billedMemoryUsedInMB")
    billed_duration_in_milliseconds: int | None = None


class StartSyncExecutionOutput(_Response):
    """StartSyncExecution: the ended EXPRESS execution."""

    execution_arn: str
    state_machine_arn: str | None = None
    name: str | None = None
    start_date: str
    stop_date: str
    error: str | None = None
    cause: str | None = None
    input: str | None = Field(None, description="JSON text")
    input_details: DataDetails | None = None
    output: str | None = Field(None, description="JSON text")
    output_details: DataDetails | None = None
    trace_header: str | None = None
    status: str = Field(description="SUCCEEDED, FAILED or TIMED_OUT")
    billing_details: BillingDetails | None = None


# -- tags ---------------------------------------------------------------------------------------


class Tag(_Response):
    """One tag of a resource."""

    key: str | None = None
    value: str | None = None


class ListTagsForResourceOutput(_Response):
    """ListTagsForResource."""

    tags: list[Tag] | None = None

"""Request models and the operation table of the state machine lifecycle on the AWS face.

Versions, aliases, tags, UpdateStateMachine, StartSyncExecution and TestState; merged into
:data:`orchestrator.api.aws_json.OPERATIONS`. Field types follow the botocore model.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.schemas import AwsModel


class UpdateStateMachineInput(AwsModel):
    state_machine_arn: str
    definition: str | None = None
    role_arn: str | None = None
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None
    publish: bool | None = None
    version_description: str | None = None
    encryption_configuration: dict[str, Any] | None = None


class PublishStateMachineVersionInput(AwsModel):
    state_machine_arn: str
    revision_id: str | None = None
    description: str | None = None


class ListStateMachineVersionsInput(AwsModel):
    state_machine_arn: str
    next_token: str | None = None
    max_results: int | None = None


class DeleteStateMachineVersionInput(AwsModel):
    state_machine_version_arn: str


class CreateStateMachineAliasInput(AwsModel):
    name: str
    routing_configuration: list[dict[str, Any]]
    description: str | None = None


class StateMachineAliasArnInput(AwsModel):
    """Describe/DeleteStateMachineAlias."""

    state_machine_alias_arn: str


class UpdateStateMachineAliasInput(AwsModel):
    state_machine_alias_arn: str
    description: str | None = None
    routing_configuration: list[dict[str, Any]] | None = None


class ListStateMachineAliasesInput(AwsModel):
    state_machine_arn: str
    next_token: str | None = None
    max_results: int | None = None


class TagResourceInput(AwsModel):
    resource_arn: str
    tags: list[dict[str, Any]]


class UntagResourceInput(AwsModel):
    resource_arn: str
    tag_keys: list[str]


class ListTagsForResourceInput(AwsModel):
    resource_arn: str


class StartSyncExecutionInput(AwsModel):
    state_machine_arn: str
    name: str | None = None
    input: str | None = None
    trace_header: str | None = None
    included_data: str | None = None


class TestStateInput(AwsModel):
    __test__ = False  # not a pytest test class

    definition: str
    role_arn: str | None = None
    input: str | None = None
    inspection_level: str | None = None
    reveal_secrets: bool | None = None
    variables: str | None = None
    state_name: str | None = None
    mock: dict[str, Any] | None = None
    context: str | None = None
    state_configuration: dict[str, Any] | None = None


#: Operation -> (request model, service method name).
OPERATIONS: dict[str, tuple[type[AwsModel], str]] = {
    "UpdateStateMachine": (UpdateStateMachineInput, "update_state_machine"),
    "PublishStateMachineVersion": (
        PublishStateMachineVersionInput,
        "publish_state_machine_version",
    ),
    "ListStateMachineVersions": (ListStateMachineVersionsInput, "list_state_machine_versions"),
    "DeleteStateMachineVersion": (DeleteStateMachineVersionInput, "delete_state_machine_version"),
    "CreateStateMachineAlias": (CreateStateMachineAliasInput, "create_state_machine_alias"),
    "DescribeStateMachineAlias": (StateMachineAliasArnInput, "describe_state_machine_alias"),
    "UpdateStateMachineAlias": (UpdateStateMachineAliasInput, "update_state_machine_alias"),
    "DeleteStateMachineAlias": (StateMachineAliasArnInput, "delete_state_machine_alias"),
    "ListStateMachineAliases": (ListStateMachineAliasesInput, "list_state_machine_aliases"),
    "TagResource": (TagResourceInput, "tag_resource"),
    "UntagResource": (UntagResourceInput, "untag_resource"),
    "ListTagsForResource": (ListTagsForResourceInput, "list_tags_for_resource"),
    "StartSyncExecution": (StartSyncExecutionInput, "start_sync_execution"),
    "TestState": (TestStateInput, "test_state"),
}

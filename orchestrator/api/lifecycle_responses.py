"""Response models of the /v1 lifecycle routes (``rest_lifecycle``), for the OpenAPI document.

They name the members each operation returns in AWS's camelCase shapes without reshaping them:
every member is optional, members not listed are kept (``extra="allow"``), and the routes use
``response_model_exclude_unset`` so absent members stay absent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Nothing(_Out):
    """DeleteStateMachineVersion, DeleteStateMachineAlias, TagResource, UntagResource."""


class UpdateStateMachineOut(_Out):
    """UpdateStateMachine."""

    update_date: Any = None
    revision_id: Any = None
    state_machine_version_arn: Any = None


class VersionOut(_Out):
    """PublishStateMachineVersion."""

    state_machine_version_arn: Any = None
    creation_date: Any = None


class VersionsOut(_Out):
    """ListStateMachineVersions."""

    state_machine_versions: list[Any] | None = None
    next_token: Any = None


class AliasOut(_Out):
    """CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias."""

    state_machine_alias_arn: Any = None
    name: Any = None
    routing_configuration: Any = None
    creation_date: Any = None
    update_date: Any = None


class AliasesOut(_Out):
    """ListStateMachineAliases."""

    state_machine_aliases: list[Any] | None = None
    next_token: Any = None


class TestStateOut(_Out):
    """TestState."""

    __test__ = False  # not a pytest test class

    status: Any = None
    output: Any = None
    error: Any = None
    cause: Any = None
    inspection_data: Any = None
    next_state: Any = None


class SyncExecutionOut(_Out):
    """StartSyncExecution."""

    execution_arn: Any = None
    status: Any = None
    output: Any = None
    start_date: Any = None
    stop_date: Any = None


class TagsOut(_Out):
    """ListTagsForResource."""

    tags: list[Any] | None = None


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """Route keyword arguments that document a response with ``model`` and keep it as is."""
    return {"response_model": model, "response_model_exclude_unset": True}

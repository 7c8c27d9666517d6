"""Update, versions, aliases and tags through boto3's stepfunctions client (real server)."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from orchestrator.executions.aliases import choose_version
from orchestrator.executions.service import StepFunctionsService
from tests.integration.api.support import PASS_DEFINITION, ROLE, SM_PREFIX, finish

OTHER_DEFINITION = json.dumps(
    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": 2, "End": True}}}
)


def _code(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_update_publish_and_describe_versions(sfn: Any) -> None:
    created = sfn.create_state_machine(
        name="orders", definition=PASS_DEFINITION, roleArn=ROLE, publish=True,
        versionDescription="first",
    )
    machine = created["stateMachineArn"]
    assert created["stateMachineVersionArn"] == machine + ":1"
    assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=machine)
    updated = sfn.update_state_machine(
        stateMachineArn=machine, definition=OTHER_DEFINITION,
        loggingConfiguration={"level": "ERROR", "includeExecutionData": True},
        tracingConfiguration={"enabled": True}, publish=True, versionDescription="second",
    )
    assert updated["stateMachineVersionArn"] == machine + ":2"
    described = sfn.describe_state_machine(stateMachineArn=machine)
    assert described["definition"] == OTHER_DEFINITION
    assert described["revisionId"] == updated["revisionId"]
    assert described["loggingConfiguration"]["level"] == "ERROR"
    assert described["tracingConfiguration"] == {"enabled": True}
    first = sfn.describe_state_machine(stateMachineArn=machine + ":1")
    assert (first["definition"], first["description"]) == (PASS_DEFINITION, "first")
    # Publishing the current revision again is idempotent; a stale revisionId conflicts.
    again = sfn.publish_state_machine_version(stateMachineArn=machine)
    assert again["stateMachineVersionArn"] == machine + ":2"
    with pytest.raises(botocore.exceptions.ClientError) as stale:
        sfn.publish_state_machine_version(stateMachineArn=machine, revisionId="INITIAL")
    assert _code(stale) == "ConflictException"
    listed = sfn.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [machine + ":2", machine + ":1"]
    assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["orders"]
    sfn.delete_state_machine_version(stateMachineVersionArn=machine + ":1")
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        sfn.describe_state_machine(stateMachineArn=machine + ":1")
    assert _code(gone) == "StateMachineDoesNotExist"
    # Numbers are never reused after a delete.
    sfn.update_state_machine(stateMachineArn=machine, definition=PASS_DEFINITION)
    assert sfn.publish_state_machine_version(stateMachineArn=machine)[
        "stateMachineVersionArn"
    ] == machine + ":3"


def test_update_is_validated_like_create(sfn: Any) -> None:
    machine = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        sfn.update_state_machine(stateMachineArn=machine, definition='{"StartAt": "X"}')
    assert _code(bad) == "InvalidDefinition"
    with pytest.raises(botocore.exceptions.ClientError) as empty:
        sfn.update_state_machine(stateMachineArn=machine)
    assert _code(empty) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        sfn.update_state_machine(stateMachineArn=SM_PREFIX + "nope", roleArn=ROLE)
    assert _code(missing) == "StateMachineDoesNotExist"
    with pytest.raises(botocore.exceptions.ClientError) as description:
        sfn.update_state_machine(stateMachineArn=machine, roleArn=ROLE, versionDescription="x")
    assert _code(description) == "ValidationException"


def test_aliases_route_executions_to_versions(
    sfn: Any, service: StepFunctionsService
) -> None:
    machine = sfn.create_state_machine(
        name="orders", definition=PASS_DEFINITION, roleArn=ROLE, publish=True
    )["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=machine, definition=OTHER_DEFINITION, publish=True)
    v1, v2 = machine + ":1", machine + ":2"
    alias = sfn.create_state_machine_alias(
        name="live", description="prod", routingConfiguration=[{"stateMachineVersionArn": v1,
                                                                "weight": 100}]
    )["stateMachineAliasArn"]
    assert alias == machine + ":live"
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert (described["name"], described["description"]) == ("live", "prod")
    assert described["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}]
    with pytest.raises(botocore.exceptions.ClientError) as in_use:
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    assert _code(in_use) == "ConflictException"
    with pytest.raises(botocore.exceptions.ClientError) as weights:
        sfn.update_state_machine_alias(
            stateMachineAliasArn=alias,
            routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50},
                                  {"stateMachineVersionArn": v2, "weight": 40}],
        )
    assert _code(weights) == "ValidationException"

    run = sfn.start_execution(stateMachineArn=alias, name="via-alias")["executionArn"]
    assert run == machine.replace(":stateMachine:", ":execution:") + ":via-alias"
    execution = sfn.describe_execution(executionArn=run)
    assert execution["stateMachineArn"] == machine
    assert (execution["stateMachineVersionArn"], execution["stateMachineAliasArn"]) == (v1, alias)
    ran = sfn.describe_state_machine_for_execution(executionArn=run)
    assert ran["definition"] == PASS_DEFINITION  # version 1, not the current definition
    direct = sfn.start_execution(stateMachineArn=v2, name="via-version")["executionArn"]
    finish(service, direct, "SUCCEEDED", output="{}")
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=v2)["executions"]] == [
        "via-version"
    ]
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=alias)["executions"]] == [
        "via-alias"
    ]
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}],
    )
    aliases = sfn.list_state_machine_aliases(stateMachineArn=machine)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in aliases] == [alias]
    assert sfn.list_state_machine_aliases(stateMachineArn=v1)["stateMachineAliases"] == []
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)  # no alias routes to it now
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert _code(gone) == "ResourceNotFound"


def test_weighted_routing_draws_by_weight() -> None:
    routes = [{"stateMachineVersionArn": "v1", "weight": 30},
              {"stateMachineVersionArn": "v2", "weight": 70}]
    assert [choose_version(routes, draw) for draw in (0.0, 0.29, 0.3, 0.99)] == [
        "v1", "v1", "v2", "v2"
    ]


def test_running_execution_keeps_the_definition_it_started_with(
    sfn: Any, service: StepFunctionsService
) -> None:
    machine = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    run = sfn.start_execution(stateMachineArn=machine, name="before")["executionArn"]
    sfn.update_state_machine(stateMachineArn=machine, definition=OTHER_DEFINITION)
    record = service.store.get_execution(run)
    assert record is not None
    snapshot = service.store.get_state_machine(record["definitionArn"])
    assert snapshot is not None and snapshot["definition"] == PASS_DEFINITION
    assert sfn.describe_state_machine_for_execution(executionArn=run)["definition"] == (
        PASS_DEFINITION
    )


def test_tags(sfn: Any) -> None:
    machine = sfn.create_state_machine(
        name="orders", definition=PASS_DEFINITION, roleArn=ROLE,
        tags=[{"key": "team", "value": "data"}],
    )["stateMachineArn"]
    sfn.tag_resource(resourceArn=machine, tags=[{"key": "env", "value": "prod"},
                                                {"key": "team", "value": "ml"}])
    tags = sfn.list_tags_for_resource(resourceArn=machine)["tags"]
    assert sorted((t["key"], t["value"]) for t in tags) == [("env", "prod"), ("team", "ml")]
    sfn.untag_resource(resourceArn=machine, tagKeys=["team", "absent"])
    assert sfn.list_tags_for_resource(resourceArn=machine)["tags"] == [
        {"key": "env", "value": "prod"}
    ]
    with pytest.raises(botocore.exceptions.ClientError) as many:
        sfn.tag_resource(
            resourceArn=machine, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)]
        )
    assert _code(many) == "TooManyTags"
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        sfn.list_tags_for_resource(resourceArn=SM_PREFIX + "nope")
    assert _code(unknown) == "ResourceNotFound"


def test_delete_removes_versions_and_aliases(sfn: Any) -> None:
    machine = sfn.create_state_machine(
        name="orders", definition=PASS_DEFINITION, roleArn=ROLE, publish=True
    )["stateMachineArn"]
    sfn.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": machine + ":1",
                                            "weight": 100}]
    )
    with pytest.raises(botocore.exceptions.ClientError) as qualified:
        sfn.delete_state_machine(stateMachineArn=machine + ":1")
    assert _code(qualified) == "ValidationException"
    sfn.delete_state_machine(stateMachineArn=machine)
    again = sfn.create_state_machine(name="orders", definition=OTHER_DEFINITION, roleArn=ROLE)
    assert again["stateMachineArn"] == machine
    assert sfn.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"] == []
    with pytest.raises(botocore.exceptions.ClientError) as alias:
        sfn.describe_state_machine_alias(stateMachineAliasArn=machine + ":live")
    assert _code(alias) == "ResourceNotFound"


def test_machine_deleted_while_running_takes_its_snapshots_when_the_last_run_ends(
    sfn: Any, service: StepFunctionsService
) -> None:
    machine = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    run = sfn.start_execution(stateMachineArn=machine, name="last")["executionArn"]
    record = service.store.get_execution(run)
    assert record is not None
    sfn.delete_state_machine(stateMachineArn=machine)
    assert service.store.get_state_machine(record["definitionArn"]) is not None  # still needed
    sfn.stop_execution(executionArn=run)
    assert service.store.get_state_machine(machine) is None
    assert service.store.get_state_machine(record["definitionArn"]) is None

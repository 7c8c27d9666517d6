"""boto3's stepfunctions client against a real uvicorn server on a loopback port."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import botocore.exceptions
import pytest

from orchestrator.executions.service import StepFunctionsService
from tests.integration.api.support import (
    BROKEN_DEFINITION,
    PASS_DEFINITION,
    ROLE,
    SM_PREFIX,
    FakePublisher,
    finish,
)


def test_state_machine_lifecycle_through_boto3(sfn: Any) -> None:
    created = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)
    assert created["stateMachineArn"] == SM_PREFIX + "orders"
    assert isinstance(created["creationDate"], datetime)
    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    assert (described["name"], described["type"], described["status"]) == (
        "orders",
        "STANDARD",
        "ACTIVE",
    )
    assert described["creationDate"] == created["creationDate"]
    listed = sfn.list_state_machines()["stateMachines"]
    assert [(m["name"], m["type"]) for m in listed] == [("orders", "STANDARD")]


def test_execution_lifecycle_through_boto3(
    sfn: Any, service: StepFunctionsService, publisher: FakePublisher
) -> None:
    machine = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    started = sfn.start_execution(stateMachineArn=machine, name="first", input=json.dumps({"n": 1}))
    arn = started["executionArn"]
    assert publisher.calls == [("advance", arn)]
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], json.loads(described["input"])) == ("RUNNING", {"n": 1})
    assert described["startDate"] == started["startDate"]
    second = sfn.start_execution(stateMachineArn=machine, name="second")["executionArn"]
    finish(service, second, "SUCCEEDED", output="{}")
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [(e["name"], e["status"]) for e in listed] == [
        ("second", "SUCCEEDED"),
        ("first", "RUNNING"),
    ]
    stopped = sfn.stop_execution(executionArn=arn, error="Manual", cause="test")
    assert isinstance(stopped["stopDate"], datetime)
    history = sfn.get_execution_history(executionArn=arn)["events"]
    assert [(e["id"], e["type"], e["executionAbortedEventDetails"]["error"]) for e in history] == [
        (1, "ExecutionAborted", "Manual")
    ]
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_validate_definition_through_boto3(sfn: Any) -> None:
    assert sfn.validate_state_machine_definition(definition=PASS_DEFINITION)["result"] == "OK"
    failed = sfn.validate_state_machine_definition(definition=BROKEN_DEFINITION)
    assert failed["result"] == "FAIL"
    assert [d["location"] for d in failed["diagnostics"]] == [
        "/States/C/Type",
        "/States/A/Next",
        "/States/C",
    ]


def test_invalid_definition_raises_with_every_problem(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidDefinition) as caught:
        sfn.create_state_machine(name="broken", definition=BROKEN_DEFINITION, roleArn=ROLE)
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("Invalid State Machine Definition: ")
    for location in ("/States/C/Type'", "/States/A/Next'", "/States/C'"):
        assert location in message


def test_modelled_errors_reach_boto3_as_their_exception_classes(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=SM_PREFIX + "ghost")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn=SM_PREFIX + "ghost")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(
            executionArn=SM_PREFIX.replace("stateMachine", "execution") + "ghost:x"
        )
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.create_state_machine(name="bad name", definition=PASS_DEFINITION, roleArn=ROLE)


def test_labelled_arn_start_is_a_validation_error_with_reason(sfn: Any) -> None:
    machine = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        sfn.start_execution(stateMachineArn=machine + "/Items")
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert caught.value.response["reason"] == "API_DOES_NOT_SUPPORT_LABELED_ARNS"


def test_paginator_walks_every_page(sfn: Any) -> None:
    machine = sfn.create_state_machine(name="orders", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    names = [f"e{i:02d}" for i in range(7)]
    for name in names:
        sfn.start_execution(stateMachineArn=machine, name=name)
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=machine, PaginationConfig={"PageSize": 3}
    )
    seen = [e["name"] for page in pages for e in page["executions"]]
    assert seen == list(reversed(names))

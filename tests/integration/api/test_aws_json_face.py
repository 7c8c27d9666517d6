"""The AWS JSON 1.0 face through the TestClient: protocol details, every operation, errors."""

from __future__ import annotations

import json

from orchestrator.executions.service import StepFunctionsService
from tests.integration.api.support import (
    BROKEN_DEFINITION,
    CHILD,
    MAP_RUN,
    PASS_DEFINITION,
    ROLE,
    SM_PREFIX,
    FakeMapRuns,
    TestClient,
    aws,
    finish,
)


def create(client: TestClient, name: str = "orders") -> str:
    response = aws(
        client, "CreateStateMachine", {"name": name, "definition": PASS_DEFINITION, "roleArn": ROLE}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["stateMachineArn"])


def start(client: TestClient, machine: str, **extra: str) -> str:
    response = aws(client, "StartExecution", {"stateMachineArn": machine, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["executionArn"])


def test_responses_carry_the_amz_json_content_type_and_epoch_dates(client: TestClient) -> None:
    response = aws(
        client,
        "CreateStateMachine",
        {"name": "orders", "definition": PASS_DEFINITION, "roleArn": ROLE},
    )
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    assert isinstance(response.json()["creationDate"], float)


def test_errors_carry_type_message_and_error_type_header(client: TestClient) -> None:
    response = aws(client, "DescribeStateMachine", {"stateMachineArn": SM_PREFIX + "ghost"})
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "StateMachineDoesNotExist"
    assert response.json() == {
        "__type": "StateMachineDoesNotExist",
        "message": f"State Machine Does Not Exist: '{SM_PREFIX}ghost'",
    }


def test_unknown_operation_and_missing_target(client: TestClient) -> None:
    assert aws(client, "Frobnicate").json()["__type"] == "UnknownOperationException"
    response = client.post(
        "/", content=b"{}", headers={"Content-Type": "application/x-amz-json-1.0"}
    )
    assert (response.status_code, response.json()["__type"]) == (400, "UnknownOperationException")


def test_bad_json_and_wrong_types_are_serialization_errors(client: TestClient) -> None:
    assert aws(client, "ListStateMachines", b"{nope").json()["__type"] == "SerializationException"
    assert aws(client, "ListStateMachines", b"[1]").json()["__type"] == "SerializationException"
    wrong = aws(client, "ListStateMachines", {"maxResults": "ten"}).json()
    assert wrong["__type"] == "SerializationException"
    assert "'maxResults'" in wrong["message"]


def test_missing_member_is_a_validation_error_naming_it(client: TestClient) -> None:
    body = aws(client, "StartExecution", {}).json()
    assert body == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
        "constraint: Member must not be null",
    }


def test_server_keeps_serving_after_bad_requests(client: TestClient) -> None:
    for bad in (b"\xff\xfe", b"{", b"null", b'{"maxResults": true}'):
        assert aws(client, "ListStateMachines", bad).status_code == 400
    assert aws(client, "ListStateMachines").json() == {"stateMachines": []}


def test_invalid_definition_message_lists_every_problem(client: TestClient) -> None:
    body = aws(
        client,
        "CreateStateMachine",
        {"name": "x", "definition": BROKEN_DEFINITION, "roleArn": ROLE},
    ).json()
    assert body["__type"] == "InvalidDefinition"
    assert body["message"] == (
        "Invalid State Machine Definition: "
        "'SCHEMA_VALIDATION_FAILED: Field 'Type' of state 'C' must be one of "
        "Pass | Task | Choice | Wait | Succeed | Fail | Parallel | Map, "
        'got "Bogus" at /States/C/Type\', '
        "'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next', "
        "'MISSING_TRANSITION_TARGET: State \"C\" is not reachable. at /States/C'"
    )
    assert "problems" not in body


def test_jsonata_definition_is_accepted(client: TestClient) -> None:
    jsonata = json.dumps({"QueryLanguage": "JSONata", "StartAt": "A",
                          "States": {"A": {"Type": "Pass", "Output": "{% 1 + 1 %}", "End": True}}})
    verdict = aws(client, "ValidateStateMachineDefinition", {"definition": jsonata}).json()
    assert verdict["result"] == "OK"
    body = aws(client, "CreateStateMachine",
               {"name": "j", "definition": jsonata, "roleArn": ROLE}).json()
    assert "stateMachineArn" in body


def test_every_state_machine_operation(client: TestClient) -> None:
    arn = create(client)
    described = aws(client, "DescribeStateMachine", {"stateMachineArn": arn}).json()
    assert (described["name"], described["roleArn"], described["definition"]) == (
        "orders",
        ROLE,
        PASS_DEFINITION,
    )
    labelled = aws(client, "DescribeStateMachine", {"stateMachineArn": arn + "/Items"}).json()
    assert (labelled["stateMachineArn"], labelled["label"]) == (arn + "/Items", "Items")
    listed = aws(client, "ListStateMachines", {"maxResults": 0}).json()
    assert [m["stateMachineArn"] for m in listed["stateMachines"]] == [arn]
    valid = aws(
        client, "ValidateStateMachineDefinition", {"definition": PASS_DEFINITION, "type": "EXPRESS"}
    ).json()
    assert valid == {"result": "OK", "diagnostics": [], "truncated": False}
    assert aws(client, "DeleteStateMachine", {"stateMachineArn": arn}).json() == {}
    assert (
        aws(client, "DescribeStateMachine", {"stateMachineArn": arn}).json()["__type"]
        == "StateMachineDoesNotExist"
    )


def test_every_execution_operation(client: TestClient, service: StepFunctionsService) -> None:
    machine = create(client)
    arn = start(client, machine, name="one", input='{"a":1}')
    described = aws(client, "DescribeExecution", {"executionArn": arn}).json()
    assert (described["status"], described["input"], described["name"]) == (
        "RUNNING",
        '{"a":1}',
        "one",
    )
    metadata = aws(
        client, "DescribeExecution", {"executionArn": arn, "includedData": "METADATA_ONLY"}
    ).json()
    assert "input" not in metadata
    stop = aws(client, "StopExecution", {"executionArn": arn, "cause": "why"}).json()
    assert isinstance(stop["stopDate"], float)
    listed = aws(
        client, "ListExecutions", {"stateMachineArn": machine, "statusFilter": "ABORTED"}
    ).json()
    assert [e["executionArn"] for e in listed["executions"]] == [arn]
    history = aws(client, "GetExecutionHistory", {"executionArn": arn, "reverseOrder": True}).json()
    assert [e["type"] for e in history["events"]] == ["ExecutionAborted"]
    redriven = aws(client, "RedriveExecution", {"executionArn": arn, "clientToken": "tok-1"}).json()
    again = aws(client, "RedriveExecution", {"executionArn": arn, "clientToken": "tok-1"}).json()
    assert redriven == again
    assert aws(client, "DescribeExecution", {"executionArn": arn}).json()["redriveCount"] == 1
    for_execution = aws(client, "DescribeStateMachineForExecution", {"executionArn": arn}).json()
    assert (for_execution["stateMachineArn"], for_execution["updateDate"]) == (
        machine,
        aws(client, "DescribeStateMachine", {"stateMachineArn": machine}).json()["creationDate"],
    )
    finish(service, arn, "SUCCEEDED", output='{"done":true}')
    done = aws(client, "DescribeExecution", {"executionArn": arn}).json()
    assert (done["output"], done["outputDetails"]) == ('{"done":true}', {"included": True})


def test_bad_client_token_is_a_validation_error(client: TestClient) -> None:
    arn = start(client, create(client))
    body = aws(client, "RedriveExecution", {"executionArn": arn, "clientToken": "has space"}).json()
    assert body["__type"] == "ValidationException"
    assert "clientToken" in body["message"]


def test_every_map_run_operation(client: TestClient, map_runs: FakeMapRuns) -> None:
    parent = start(client, create(client))
    listed = aws(client, "ListMapRuns", {"executionArn": parent}).json()
    assert listed["mapRuns"][0]["mapRunArn"] == MAP_RUN
    assert aws(client, "DescribeMapRun", {"mapRunArn": MAP_RUN}).json()["maxConcurrency"] == 5
    assert (
        aws(client, "UpdateMapRun", {"mapRunArn": MAP_RUN, "toleratedFailureCount": 3}).json() == {}
    )
    assert map_runs.calls[-1] == ("update_map_run", (MAP_RUN, None, None, 3))
    bad = aws(
        client, "UpdateMapRun", {"mapRunArn": MAP_RUN, "toleratedFailurePercentage": 101}
    ).json()
    assert bad["__type"] == "ValidationException"
    children = aws(
        client, "ListExecutions", {"mapRunArn": MAP_RUN, "redriveFilter": "NOT_REDRIVEN"}
    ).json()
    assert children["executions"][0]["itemCount"] == 1
    child = aws(client, "DescribeStateMachineForExecution", {"executionArn": CHILD}).json()
    assert (child["mapRunArn"], child["label"], child["stateMachineArn"]) == (
        MAP_RUN,
        "Items",
        SM_PREFIX + "orders/Items",
    )
    not_child = aws(client, "RedriveExecution", {"executionArn": CHILD}).json()
    assert not_child["__type"] == "ExecutionNotRedrivable"
    token = aws(client, "ListMapRuns", {"executionArn": parent, "nextToken": "x"}).json()
    assert token["__type"] == "InvalidToken"


def test_list_map_runs_of_unknown_execution(client: TestClient) -> None:
    ghost = SM_PREFIX.replace("stateMachine", "execution") + "orders:ghost"
    assert (
        aws(client, "ListMapRuns", {"executionArn": ghost}).json()["__type"]
        == "ExecutionDoesNotExist"
    )


def test_history_input_and_output_survive_as_json_text(
    client: TestClient, service: StepFunctionsService
) -> None:
    arn = start(client, create(client))
    event = {
        "timestamp": 1.5,
        "type": "ExecutionStarted",
        "id": 1,
        "previousEventId": 0,
        "executionStartedEventDetails": {
            "input": json.dumps({"é": "ü"}),
            "inputDetails": {"truncated": False},
        },
    }
    service.store.append_history(arn, [event])
    assert aws(client, "GetExecutionHistory", {"executionArn": arn}).json()["events"] == [event]

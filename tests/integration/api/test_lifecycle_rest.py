"""The /v1 routes of update, versions, aliases and tags."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.api.rest import iso_dates
from orchestrator.executions.service import StepFunctionsService
from tests.integration.api.support import PASS_DEFINITION, TestClient


def test_update_version_alias_and_tags_on_v1(client: TestClient) -> None:
    created = client.post(
        "/v1/state-machines",
        json={"name": "orders", "definition": PASS_DEFINITION,
              "tags": [{"key": "team", "value": "data"}]},
    )
    machine = created.json()["stateMachineArn"]
    updated = client.patch(
        f"/v1/state-machines/{machine}",
        json={"definition": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}},
              "publish": True, "versionDescription": "v1"},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["stateMachineVersionArn"] == machine + ":1"
    assert updated.json()["updateDate"].endswith("+00:00")
    listed = client.get(f"/v1/state-machines/{machine}/versions").json()
    assert [v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]] == [
        machine + ":1"
    ]
    version = client.get(f"/v1/state-machines/{machine}:1").json()
    assert version["description"] == "v1"
    alias = client.post(
        "/v1/aliases",
        json={"name": "live", "routingConfiguration": [
            {"stateMachineVersionArn": machine + ":1", "weight": 100}]},
    ).json()["stateMachineAliasArn"]
    assert client.get(f"/v1/aliases/{alias}").json()["name"] == "live"
    aliases = client.get(f"/v1/state-machines/{machine}/aliases").json()["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in aliases] == [alias]
    conflict = client.delete(f"/v1/versions/{machine}:1")
    assert conflict.json()["error"] == "ConflictException"
    assert client.delete(f"/v1/aliases/{alias}").status_code == 200
    assert client.delete(f"/v1/versions/{machine}:1").status_code == 200
    client.post(f"/v1/tags/{machine}", json={"tags": [{"key": "env", "value": "prod"}]})
    client.delete(f"/v1/tags/{machine}", params={"tagKeys": ["team"]})
    assert client.get(f"/v1/tags/{machine}").json() == {"tags": [{"key": "env", "value": "prod"}]}


def test_test_state_on_v1_takes_json_values(client: TestClient) -> None:
    response = client.post(
        "/v1/test-state",
        json={"definition": {"Type": "Pass", "Parameters": {"v.$": "$x"}, "Next": "B"},
              "input": {"a": 1}, "variables": {"x": 5}},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "SUCCEEDED", "output": '{"v":5}', "nextState": "B"}


def _same_bytes(answer: Any, expected: dict[str, Any]) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.content == json.dumps(expected, separators=(",", ":")).encode()


def test_v1_answers_are_the_service_answers_to_the_byte(
    client: TestClient, service: StepFunctionsService
) -> None:
    """The response models document the answers without reshaping them: same members, same
    order, same numbers."""
    machine = client.post("/v1/state-machines", json={"name": "m", "definition": PASS_DEFINITION,
                                                      "publish": True}).json()["stateMachineArn"]
    alias = client.post("/v1/aliases", json={
        "name": "live", "description": "d",
        "routingConfiguration": [{"stateMachineVersionArn": machine + ":1", "weight": 100}],
    }).json()["stateMachineAliasArn"]
    _same_bytes(client.get(f"/v1/aliases/{alias}"),
                iso_dates(service.describe_state_machine_alias({"stateMachineAliasArn": alias})))
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "N",
            "Retry": [{"ErrorEquals": ["Boom"]}],
            "Catch": [{"ErrorEquals": ["Other"], "Next": "H"}]}
    items = {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
             "ToleratedFailureCount": 1, "ToleratedFailurePercentage": 10, "End": True,
             "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    for definition, mock in ((items, {"result": "[1]"}),
                             (task, {"errorOutput": {"error": "Boom", "cause": "c"}}),
                             (task, {"errorOutput": {"error": "Other", "cause": "c"}})):
        payload = {"definition": json.dumps(definition), "input": '{"items":[1]}', "mock": mock,
                   "inspectionLevel": "DEBUG"}
        _same_bytes(client.post("/v1/test-state", json=payload), service.test_state(payload))

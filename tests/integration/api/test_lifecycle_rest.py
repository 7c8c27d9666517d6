"""The /v1 routes of update, versions, aliases and tags."""

from __future__ import annotations

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

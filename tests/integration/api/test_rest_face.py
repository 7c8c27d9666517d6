"""The /v1 resource face against a real Redis."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from orchestrator.executions.service import StepFunctionsService
from tests.integration.api.support import (
    BROKEN_DEFINITION,
    CHILD,
    MAP_RUN,
    PASS_DEFINITION,
    SM_PREFIX,
    FakeMapRuns,
    FakePublisher,
    TestClient,
    finish,
)


def create(
    client: TestClient, name: str = "orders", definition: Any = PASS_DEFINITION, **extra: Any
) -> str:
    response = client.post(
        "/v1/state-machines", json={"name": name, "definition": definition, **extra}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["stateMachineArn"])


def start(client: TestClient, machine: str, **extra: Any) -> str:
    response = client.post("/v1/executions", json={"stateMachineArn": machine, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["executionArn"])


def test_created_state_machine_is_described_with_iso_dates(client: TestClient) -> None:
    arn = create(client, definition=json.loads(PASS_DEFINITION))
    assert arn == f"{SM_PREFIX}orders"
    body = client.get(f"/v1/state-machines/{arn}").json()
    assert body["name"] == "orders"
    assert json.loads(body["definition"]) == json.loads(PASS_DEFINITION)
    assert (body["type"], body["status"]) == ("STANDARD", "ACTIVE")
    assert body["creationDate"].endswith("+00:00")
    assert body["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}


def test_percent_encoded_arns_reach_the_same_resource(client: TestClient) -> None:
    arn = create(client)
    response = client.get("/v1/state-machines/" + quote(arn, safe=""))
    assert response.status_code == 200
    assert response.json()["stateMachineArn"] == arn


def test_creating_the_same_state_machine_twice_is_idempotent(client: TestClient) -> None:
    first = client.post(
        "/v1/state-machines", json={"name": "orders", "definition": PASS_DEFINITION}
    ).json()
    second = client.post(
        "/v1/state-machines", json={"name": "orders", "definition": PASS_DEFINITION}
    ).json()
    assert first == second


def test_same_name_with_another_definition_conflicts(client: TestClient) -> None:
    create(client)
    other = json.dumps({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}})
    response = client.post("/v1/state-machines", json={"name": "orders", "definition": other})
    assert response.status_code == 409
    assert response.json() == {
        "error": "StateMachineAlreadyExists",
        "message": f"State Machine Already Exists: '{SM_PREFIX}orders'",
    }


def test_invalid_definition_lists_every_problem(client: TestClient) -> None:
    response = client.post(
        "/v1/state-machines", json={"name": "orders", "definition": BROKEN_DEFINITION}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "InvalidDefinition"
    assert [(p["code"], p["location"]) for p in body["problems"]] == [
        ("SCHEMA_VALIDATION_FAILED", "/States/C/Type"),
        ("MISSING_TRANSITION_TARGET", "/States/A/Next"),
        ("MISSING_TRANSITION_TARGET", "/States/C"),
    ]
    assert body["message"].startswith(
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
    )
    assert (
        "'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'" in body["message"]
    )
    assert client.get(f"/v1/state-machines/{SM_PREFIX}orders").status_code == 404


def test_invalid_names_are_rejected(client: TestClient) -> None:
    response = client.post(
        "/v1/state-machines", json={"name": "has space", "definition": PASS_DEFINITION}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "InvalidName", "message": "Invalid Name: 'has space'"}
    too_long = client.post(
        "/v1/state-machines", json={"name": "x" * 81, "definition": PASS_DEFINITION}
    )
    assert too_long.json()["error"] == "ValidationException"


def test_state_machines_are_listed_in_pages(client: TestClient) -> None:
    for name in ("a", "b", "c"):
        create(client, name)
    first = client.get("/v1/state-machines", params={"maxResults": 2}).json()
    assert [m["name"] for m in first["stateMachines"]] == ["a", "b"]
    second = client.get(
        "/v1/state-machines", params={"maxResults": 2, "nextToken": first["nextToken"]}
    ).json()
    assert [m["name"] for m in second["stateMachines"]] == ["c"]
    assert "nextToken" not in second


def test_unknown_token_is_invalid(client: TestClient) -> None:
    response = client.get("/v1/state-machines", params={"nextToken": "nope"})
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidToken"


def test_deleted_state_machine_is_gone(client: TestClient) -> None:
    arn = create(client)
    assert client.delete(f"/v1/state-machines/{arn}").json() == {}
    assert client.get(f"/v1/state-machines/{arn}").json()["error"] == "StateMachineDoesNotExist"


def test_deleting_with_running_executions_marks_deleting(client: TestClient) -> None:
    arn = create(client)
    start(client, arn)
    client.delete(f"/v1/state-machines/{arn}")
    assert client.get(f"/v1/state-machines/{arn}").json()["status"] == "DELETING"
    refused = client.post("/v1/executions", json={"stateMachineArn": arn})
    assert (refused.status_code, refused.json()["error"]) == (409, "StateMachineDeleting")


def test_a_deleting_state_machine_is_removed_when_its_last_execution_ends(
    client: TestClient,
) -> None:
    arn = create(client)
    first, second = start(client, arn), start(client, arn)
    client.delete(f"/v1/state-machines/{arn}")
    client.post(f"/v1/executions/{first}/stop")
    assert client.get(f"/v1/state-machines/{arn}").json()["status"] == "DELETING"
    client.post(f"/v1/executions/{second}/stop")
    assert client.get(f"/v1/state-machines/{arn}").json()["error"] == "StateMachineDoesNotExist"
    # The name can be used again; the executions stay describable
    assert create(client) == arn
    assert client.get(f"/v1/executions/{first}").json()["status"] == "ABORTED"


def test_validate_reports_diagnostics(client: TestClient) -> None:
    ok = client.post("/v1/state-machines/validate", json={"definition": PASS_DEFINITION}).json()
    assert ok == {"result": "OK", "diagnostics": [], "truncated": False}
    bad = client.post(
        "/v1/state-machines/validate", json={"definition": BROKEN_DEFINITION, "maxResults": 2}
    ).json()
    assert bad["result"] == "FAIL"
    assert bad["truncated"] is True
    assert bad["diagnostics"][1] == {
        "severity": "ERROR",
        "code": "MISSING_TRANSITION_TARGET",
        "message": "Missing 'Next' target: B",
        "location": "/States/A/Next",
    }


def test_started_execution_runs_and_is_published(
    client: TestClient, publisher: FakePublisher
) -> None:
    machine = create(client)
    arn = start(client, machine, name="run-1", input={"n": 1})
    assert arn == f"{SM_PREFIX.replace('stateMachine', 'execution')}orders:run-1"
    assert publisher.calls == [("advance", arn)]
    body = client.get(f"/v1/executions/{arn}").json()
    assert body["status"] == "RUNNING"
    assert json.loads(body["input"]) == {"n": 1}
    assert body["redriveStatus"] == "NOT_REDRIVABLE"


def test_same_execution_name_and_input_while_running_is_idempotent(
    client: TestClient, publisher: FakePublisher
) -> None:
    machine = create(client)
    first = client.post(
        "/v1/executions", json={"stateMachineArn": machine, "name": "x", "input": "{}"}
    ).json()
    again = client.post(
        "/v1/executions", json={"stateMachineArn": machine, "name": "x", "input": "{}"}
    ).json()
    assert first == again
    other = client.post(
        "/v1/executions", json={"stateMachineArn": machine, "name": "x", "input": "[1]"}
    )
    assert (other.status_code, other.json()["error"]) == (409, "ExecutionAlreadyExists")
    assert len(publisher.calls) == 1


def test_execution_input_must_be_json(client: TestClient) -> None:
    machine = create(client)
    response = client.post("/v1/executions", json={"stateMachineArn": machine, "input": "{oops"})
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidExecutionInput"


def test_oversized_input_is_rejected(client: TestClient) -> None:
    machine = create(client)
    response = client.post(
        "/v1/executions", json={"stateMachineArn": machine, "input": json.dumps("x" * 262_144)}
    )
    assert response.json()["error"] == "ValidationException"


def test_labelled_state_machine_arn_cannot_start(client: TestClient) -> None:
    machine = create(client)
    response = client.post("/v1/executions", json={"stateMachineArn": machine + "/Items"})
    assert response.status_code == 400
    assert (response.json()["error"], response.json()["reason"]) == (
        "ValidationException",
        "API_DOES_NOT_SUPPORT_LABELED_ARNS",
    )


def test_unknown_state_machine_is_404(client: TestClient) -> None:
    response = client.post("/v1/executions", json={"stateMachineArn": SM_PREFIX + "ghost"})
    assert response.status_code == 404
    assert response.json() == {
        "error": "StateMachineDoesNotExist",
        "message": f"State Machine Does Not Exist: '{SM_PREFIX}ghost'",
    }


def test_stop_aborts_and_appends_the_event(client: TestClient, publisher: FakePublisher) -> None:
    arn = start(client, create(client))
    stopped = client.post(
        f"/v1/executions/{arn}/stop", json={"error": "Manual", "cause": "by test"}
    ).json()
    body = client.get(f"/v1/executions/{arn}").json()
    assert (body["status"], body["error"], body["cause"]) == ("ABORTED", "Manual", "by test")
    assert body["stopDate"] == stopped["stopDate"]
    events = client.get(f"/v1/executions/{arn}/history").json()["events"]
    assert [(e["id"], e["type"], e["executionAbortedEventDetails"]) for e in events] == [
        (1, "ExecutionAborted", {"error": "Manual", "cause": "by test"})
    ]
    assert publisher.calls[-1] == ("stop", arn)


def test_stopping_a_finished_execution_changes_nothing(
    client: TestClient, service: StepFunctionsService
) -> None:
    arn = start(client, create(client))
    finish(service, arn, "SUCCEEDED", output='{"ok":true}')
    client.post(f"/v1/executions/{arn}/stop")
    body = client.get(f"/v1/executions/{arn}").json()
    assert (body["status"], body["output"]) == ("SUCCEEDED", '{"ok":true}')


def test_executions_list_newest_first_with_filter_and_pages(
    client: TestClient, service: StepFunctionsService
) -> None:
    machine = create(client)
    arns = [start(client, machine, name=f"e{i}") for i in range(3)]
    finish(service, arns[1], "FAILED", error="E", cause="C")
    listed = client.get("/v1/executions", params={"stateMachineArn": machine}).json()["executions"]
    assert [e["name"] for e in listed] == ["e2", "e1", "e0"]
    failed = client.get(
        "/v1/executions", params={"stateMachineArn": machine, "statusFilter": "FAILED"}
    ).json()
    assert [e["name"] for e in failed["executions"]] == ["e1"]
    page = client.get("/v1/executions", params={"stateMachineArn": machine, "maxResults": 2}).json()
    rest = client.get(
        "/v1/executions",
        params={"stateMachineArn": machine, "maxResults": 2, "nextToken": page["nextToken"]},
    ).json()
    assert [e["name"] for e in page["executions"] + rest["executions"]] == ["e2", "e1", "e0"]


def test_list_executions_needs_exactly_one_parent(client: TestClient) -> None:
    machine = create(client)
    neither = client.get("/v1/executions")
    both = client.get("/v1/executions", params={"stateMachineArn": machine, "mapRunArn": MAP_RUN})
    assert neither.json()["error"] == both.json()["error"] == "ValidationException"


def test_list_executions_filters_need_a_map_run(client: TestClient) -> None:
    machine = create(client)
    redriven = client.get(
        "/v1/executions", params={"stateMachineArn": machine, "redriveFilter": "REDRIVEN"}
    )
    pending = client.get(
        "/v1/executions", params={"stateMachineArn": machine, "statusFilter": "PENDING_REDRIVE"}
    )
    assert redriven.status_code == pending.status_code == 400
    bad_status = client.get(
        "/v1/executions", params={"stateMachineArn": machine, "statusFilter": "NOPE"}
    )
    assert "Member must satisfy enum value set" in bad_status.json()["message"]


def test_express_state_machines_cannot_list_executions(client: TestClient) -> None:
    machine = create(client, type="EXPRESS")
    response = client.get("/v1/executions", params={"stateMachineArn": machine})
    assert response.json()["error"] == "StateMachineTypeNotSupported"


def test_history_pages_forward_and_backward(
    client: TestClient, service: StepFunctionsService
) -> None:
    arn = start(client, create(client))
    events = [
        {
            "timestamp": 1.0 + i,
            "type": "PassStateEntered",
            "id": i + 1,
            "previousEventId": i,
            "stateEnteredEventDetails": {
                "name": "A",
                "input": "{}",
                "inputDetails": {"truncated": False},
            },
        }
        for i in range(5)
    ]
    service.store.append_history(arn, events)
    first = client.get(f"/v1/executions/{arn}/history", params={"maxResults": 3}).json()
    second = client.get(
        f"/v1/executions/{arn}/history", params={"maxResults": 3, "nextToken": first["nextToken"]}
    ).json()
    assert [e["id"] for e in first["events"]] == [1, 2, 3]
    assert [e["id"] for e in second["events"]] == [4, 5]
    assert "nextToken" not in second
    back = client.get(
        f"/v1/executions/{arn}/history", params={"maxResults": 2, "reverseOrder": True}
    ).json()
    assert [e["id"] for e in back["events"]] == [5, 4]
    more = client.get(
        f"/v1/executions/{arn}/history",
        params={"maxResults": 2, "reverseOrder": True, "nextToken": back["nextToken"]},
    ).json()
    assert [e["id"] for e in more["events"]] == [3, 2]
    crossed = client.get(f"/v1/executions/{arn}/history", params={"nextToken": back["nextToken"]})
    assert crossed.json()["error"] == "InvalidToken"


def test_history_without_execution_data_drops_input(
    client: TestClient, service: StepFunctionsService
) -> None:
    arn = start(client, create(client))
    service.store.append_history(
        arn,
        [
            {
                "timestamp": 1.0,
                "type": "ExecutionStarted",
                "id": 1,
                "previousEventId": 0,
                "executionStartedEventDetails": {
                    "input": "{}",
                    "inputDetails": {"truncated": False},
                    "roleArn": "r",
                },
            }
        ],
    )
    body = client.get(
        f"/v1/executions/{arn}/history", params={"includeExecutionData": False}
    ).json()
    assert body["events"][0]["executionStartedEventDetails"] == {"roleArn": "r"}


def test_redrive_of_a_failed_execution(
    client: TestClient, service: StepFunctionsService, publisher: FakePublisher
) -> None:
    arn = start(client, create(client))
    finish(service, arn, "FAILED", error="E", cause="C")
    response = client.post(f"/v1/executions/{arn}/redrive")
    assert response.status_code == 200
    body = client.get(f"/v1/executions/{arn}").json()
    assert (body["status"], body["redriveCount"], body["redriveDate"]) == (
        "RUNNING",
        1,
        response.json()["redriveDate"],
    )
    assert "error" not in body and "stopDate" not in body
    events = client.get(f"/v1/executions/{arn}/history").json()["events"]
    assert events[-1]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert publisher.calls[-1] == ("redrive", arn)


def test_running_and_succeeded_executions_are_not_redrivable(
    client: TestClient, service: StepFunctionsService
) -> None:
    arn = start(client, create(client))
    running = client.post(f"/v1/executions/{arn}/redrive").json()
    assert running == {
        "error": "ExecutionNotRedrivable",
        "message": "Execution is RUNNING and cannot be redriven",
    }
    finish(service, arn, "SUCCEEDED", output="{}")
    done = client.post(f"/v1/executions/{arn}/redrive").json()
    assert done["message"] == "Execution is SUCCEEDED and cannot be redriven"


def test_describe_state_machine_for_execution(client: TestClient) -> None:
    machine = create(client)
    arn = start(client, machine)
    body = client.get(f"/v1/executions/{arn}/state-machine").json()
    assert (body["stateMachineArn"], body["name"], body["definition"]) == (
        machine,
        "orders",
        PASS_DEFINITION,
    )


def test_unknown_execution_is_404(client: TestClient) -> None:
    arn = SM_PREFIX.replace("stateMachine", "execution") + "orders:ghost"
    for response in (
        client.get(f"/v1/executions/{arn}"),
        client.post(f"/v1/executions/{arn}/stop"),
        client.get(f"/v1/executions/{arn}/history"),
    ):
        assert (response.status_code, response.json()["error"]) == (404, "ExecutionDoesNotExist")


def test_wrong_arn_type_is_invalid_arn(client: TestClient) -> None:
    response = client.get(f"/v1/executions/{SM_PREFIX}orders")
    assert (response.status_code, response.json()["error"]) == (400, "InvalidArn")


def test_map_run_children_come_from_the_map_run_api(
    client: TestClient, map_runs: FakeMapRuns
) -> None:
    assert client.get(f"/v1/executions/{CHILD}").json()["mapRunArn"] == MAP_RUN
    history = client.get(f"/v1/executions/{CHILD}/history", params={"reverseOrder": True}).json()
    assert history["events"][0]["type"] == "ExecutionStarted"
    assert map_runs.calls[-1] == ("child_history", (CHILD, 100, True, None, True))
    children = client.get(
        f"/v1/map-runs/{MAP_RUN}/executions", params={"statusFilter": "SUCCEEDED"}
    ).json()
    assert [c["executionArn"] for c in children["executions"]] == [CHILD]
    assert map_runs.calls[-1] == ("list_children", (MAP_RUN, "SUCCEEDED", None, 100, None))


def test_map_runs_are_listed_described_and_updated(
    client: TestClient, map_runs: FakeMapRuns
) -> None:
    parent = start(client, create(client))
    listed = client.get(f"/v1/executions/{parent}/map-runs", params={"maxResults": 7}).json()
    assert [m["mapRunArn"] for m in listed["mapRuns"]] == [MAP_RUN]
    assert map_runs.calls[-1] == ("list_map_runs", (parent, 7, None))
    described = client.get(f"/v1/map-runs/{MAP_RUN}").json()
    assert (described["maxConcurrency"], described["startDate"]) == (5, "2023-11-14T22:13:20+00:00")
    updated = client.patch(
        f"/v1/map-runs/{MAP_RUN}", json={"maxConcurrency": 2, "toleratedFailurePercentage": 10}
    )
    assert updated.json() == {}
    assert map_runs.calls[-1] == ("update_map_run", (MAP_RUN, 2, 10.0, None))
    completed = client.patch(f"/v1/map-runs/{MAP_RUN}", json={"maxConcurrency": 999}).json()
    assert completed["reason"] == "CANNOT_UPDATE_COMPLETED_MAP_RUN"


def test_unknown_map_run_is_404(client: TestClient) -> None:
    ghost = MAP_RUN[:-4] + "ffff"
    assert client.get(f"/v1/map-runs/{ghost}").status_code == 404
    assert client.get(f"/v1/map-runs/{SM_PREFIX}x").json()["error"] == "InvalidArn"


def test_bad_requests_name_the_field_and_the_server_keeps_serving(client: TestClient) -> None:
    missing = client.post("/v1/executions", json={})
    assert missing.status_code == 400
    assert "'stateMachineArn'" in missing.json()["message"]
    wrong = client.post("/v1/state-machines", json={"name": 5, "definition": PASS_DEFINITION})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "ValidationException")
    assert "'name'" in wrong.json()["message"]
    not_json = client.post(
        "/v1/executions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    query = client.get("/v1/state-machines", params={"maxResults": "many"})
    assert query.status_code == 400 and "'maxResults'" in query.json()["message"]
    out_of_range = client.get("/v1/state-machines", params={"maxResults": 5000})
    assert "Member must have value less than or equal to 1000" in out_of_range.json()["message"]
    assert client.get("/healthz").json() == {"status": "ok", "redis": "reachable"}
    create(client)

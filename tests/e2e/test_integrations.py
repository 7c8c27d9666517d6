"""Task integrations through the API with real workers (issue 11 part 4).

One stack with every integration enabled: ``states:startExecution`` (plain, ``.sync``,
``.sync:2``) in parents and in Distributed Map children, the HTTP Task against a real HTTP
server on loopback started here (the only allowed host), and ``aws-sdk:s3`` on the stack's S3.
No assertion depends on wall time: timeouts only bound how long the test waits.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import E2E, distributed_map, make_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.integration.integrations.loopback_http import LoopbackServer, server  # noqa: E402, F401

pytestmark = pytest.mark.slow

START = "arn:aws:states:::states:startExecution"
HTTP = "arn:aws:states:::http:invoke"
S3 = "arn:aws:states:::aws-sdk:s3:"


@pytest.fixture(scope="module")
def e2e(server: LoopbackServer) -> Iterator[E2E]:
    yield from make_stack({"integrations": {
        "start_execution": True, "http_invoke": True, "s3_sdk": True,
        "http_allowed_hosts": [f"127.0.0.1:{server.port}"]}}, workers=1, concurrency=2)


def _inner(e2e: E2E, states: dict[str, Any], start_at: str) -> str:
    return e2e.create_machine({"StartAt": start_at, "States": states}, name=e2e.unique("inner"))


def _doubling(e2e: E2E) -> str:
    """A nested machine that doubles ``n``, or fails when ``fail`` is set."""
    return _inner(e2e, {
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.fail", "IsPresent": True, "Next": "Fail"}], "Default": "Double"},
        "Double": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                   "End": True},
        "Fail": {"Type": "Fail", "Error": "Inner.Refused", "Cause": "fail was set"},
    }, "Check")


def _start_task(machine: str, pattern: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": START + pattern, "Parameters": {
        "StateMachineArn": machine,
        "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        **fields}


# -- states:startExecution ----------------------------------------------------------------

def test_nested_executions_plain_sync_and_sync2_in_a_parent(e2e: E2E) -> None:
    inner = _doubling(e2e)
    definition = {"StartAt": "Plain", "States": {
        "Plain": {**_start_task(inner, ""), "ResultPath": "$.plain", "Next": "Sync"},
        "Sync": {**_start_task(inner, ".sync"), "ResultPath": "$.sync", "Next": "Sync2"},
        "Sync2": {**_start_task(inner, ".sync:2"), "ResultPath": "$.sync2", "End": True},
    }}
    arn = e2e.start(e2e.create_machine(definition), {"n": 21})
    out = e2e.wait(arn)
    assert out["status"] == "SUCCEEDED", out
    result = json.loads(out["output"])
    plain = result["plain"]
    assert plain["ExecutionArn"].startswith(inner.replace(":stateMachine:", ":execution:"))
    assert isinstance(plain["StartDate"], int)
    assert result["sync"]["Status"] == "SUCCEEDED"
    assert json.loads(result["sync"]["Output"]) == {"doubled": 42}  # .sync: JSON text
    assert result["sync2"]["Output"] == {"doubled": 42}  # .sync:2: JSON
    assert result["sync2"]["Input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == arn
    # The plain start did not wait, but its execution ran too.
    assert e2e.wait(plain["ExecutionArn"])["status"] == "SUCCEEDED"


def test_a_failed_nested_execution_fails_the_task_with_states_task_failed(e2e: E2E) -> None:
    inner = _doubling(e2e)
    definition = {"StartAt": "Sync", "States": {
        "Sync": {"Type": "Task", "Resource": START + ".sync:2",
                 "Parameters": {"StateMachineArn": inner, "Input": {"n": 1, "fail": True}},
                 "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught",
                            "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }}
    out = e2e.run(definition, {})
    assert out["status"] == "SUCCEEDED", out
    caught = json.loads(out["output"])["caught"]
    assert caught["Error"] == "States.TaskFailed"
    described = json.loads(caught["Cause"])
    assert (described["Status"], described["Error"], described["Cause"]) == (
        "FAILED", "Inner.Refused", "fail was set")
    uncaught = e2e.run({"StartAt": "Sync", "States": {"Sync": {
        "Type": "Task", "Resource": START + ".sync",
        "Parameters": {"StateMachineArn": inner, "Input": {"n": 1, "fail": True}},
        "End": True}}}, {})
    assert (uncaught["status"], uncaught["error"]) == ("FAILED", "States.TaskFailed")


def test_nested_executions_in_distributed_map_children(e2e: E2E) -> None:
    inner = _doubling(e2e)
    definition = distributed_map({
        "Plain": {**_start_task(inner, ""), "ResultPath": "$.plain", "Next": "Nested"},
        "Nested": {**_start_task(inner, ".sync:2"), "End": True,
                   "ResultSelector": {"out.$": "$.Output", "input.$": "$.Input"}}},
        "Plain", ItemsPath="$.items", MaxConcurrency=3)
    arn = e2e.start(e2e.create_machine(definition), {"items": [{"n": i} for i in range(8)]})
    out = e2e.wait(arn, timeout=120)
    assert out["status"] == "SUCCEEDED", out
    results = json.loads(out["output"])
    assert [r["out"] for r in results] == [{"doubled": 2 * i} for i in range(8)]
    # Each child's nested executions name the child as the execution that started them.
    children = {c["executionArn"] for c in e2e.children(e2e.wait_map_run(arn))}
    assert {r["input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] for r in results} == children
    started = e2e.sfn.list_executions(stateMachineArn=inner, maxResults=1000)["executions"]
    assert len(started) == 16  # 8 plain starts (not waited for) and 8 .sync:2 starts


def _token_waiting_map(e2e: E2E, ns: str, total: int, nested_task: dict[str, Any]) -> str:
    """Start a Distributed Map whose children run ``nested_task`` (a startExecution Task) on a
    nested machine that hands a task token out and waits; returns the execution once every
    token is out (none answered yet)."""
    inner = _inner(e2e, {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "probe-token",
                       "Payload": {"probe": ns, "id.$": "$.n", "token.$": "$$.Task.Token"}},
        "End": True}}, "Wait")
    nested_task["Parameters"]["StateMachineArn"] = inner
    definition = distributed_map({"Nested": nested_task}, "Nested", ItemsPath="$.items",
                                 MaxConcurrency=total)
    return e2e.start(e2e.create_machine(definition), {"items": [{"n": i} for i in range(total)]})


def _tokens(e2e: E2E, ns: str, total: int) -> list[dict[str, Any]]:
    tokens: list[dict[str, Any]] = []
    for _ in range(total):  # every nested execution hands its token out before any answer
        popped = e2e.redis.blpop([f"probe:{ns}:tokens"], timeout=90)
        assert popped is not None, f"only {len(tokens)} of {total} tokens handed out"
        tokens.append(json.loads(popped[1]))
    return tokens


def _answer_and_wait(e2e: E2E, arn: str, tokens: list[dict[str, Any]]) -> list[Any]:
    for token in tokens:
        e2e.sfn.send_task_success(taskToken=token["token"], output=json.dumps({"id": token["id"]}))
    out = e2e.wait(arn, timeout=120)
    assert out["status"] == "SUCCEEDED", out
    return list(json.loads(out["output"]))


def test_waiting_nested_executions_hold_no_worker_slot(e2e: E2E) -> None:
    """Six Map children wait at once for nested executions that wait for task tokens, on
    a worker with two slots: waiting children and parents are suspended, not blocking."""
    ns, total = e2e.unique("nest"), 6
    arn = _token_waiting_map(e2e, ns, total, {**_start_task("", ".sync:2"),
                                               "OutputPath": "$.Output", "End": True})
    tokens = _tokens(e2e, ns, total)
    assert sorted(o["id"] for o in _answer_and_wait(e2e, arn, tokens)) == list(range(total))


def test_waiting_nested_executions_survive_killed_control_and_children_workers(
        e2e: E2E) -> None:
    """Every wait lives in Redis: with all nested executions waiting, both workers are killed
    (SIGKILL) and started again; answering the tokens then completes the Map Run."""
    ns, total = e2e.unique("nestkill"), 4
    arn = _token_waiting_map(e2e, ns, total, {**_start_task("", ".sync"), "End": True,
                                               "ResultSelector": {"out.$": "$.Output"}})
    tokens = _tokens(e2e, ns, total)
    e2e.stack.restart_worker("control", kill=True)
    e2e.stack.restart_worker("children-1", kill=True)
    outputs = _answer_and_wait(e2e, arn, tokens)
    assert sorted(json.loads(o["out"])["id"] for o in outputs) == list(range(total))


def test_stopping_the_parent_stops_its_sync_nested_execution(e2e: E2E) -> None:
    inner = _inner(e2e, {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Long")
    parent = e2e.start(e2e.create_machine({"StartAt": "Sync", "States": {
        "Sync": {**_start_task(inner, ".sync"), "End": True}}}), {"n": 1})
    child = _running_execution_of(e2e, inner)
    e2e.sfn.stop_execution(executionArn=parent, error="Test.Stop", cause="stopping the parent")
    assert e2e.wait(parent)["status"] == "ABORTED"
    stopped = e2e.wait(child)
    assert stopped["status"] == "ABORTED"
    assert parent in stopped.get("cause", "")


def test_stopping_a_sync_nested_execution_fails_the_waiting_task(e2e: E2E) -> None:
    inner = _inner(e2e, {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Long")
    parent = e2e.start(e2e.create_machine({"StartAt": "Sync", "States": {
        "Sync": {**_start_task(inner, ".sync"), "End": True}}}), {"n": 1})
    child = _running_execution_of(e2e, inner)
    e2e.sfn.stop_execution(executionArn=child)
    out = e2e.wait(parent)
    assert (out["status"], out["error"]) == ("FAILED", "States.TaskFailed")
    assert json.loads(out["cause"])["Status"] == "ABORTED"


def _running_execution_of(e2e: E2E, machine: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = e2e.sfn.list_executions(stateMachineArn=machine,
                                          statusFilter="RUNNING")["executions"]
        if running:
            return str(running[0]["executionArn"])
        time.sleep(0.05)
    pytest.fail(f"no RUNNING execution of {machine} after {timeout:g}s")


def test_nested_executions_are_refused_in_express_machines(e2e: E2E) -> None:
    with pytest.raises(Exception) as caught:
        e2e.create_machine({"StartAt": "S", "States": {"S": {
            **_start_task("arn:aws:states:us-east-1:000000000000:stateMachine:x", ".sync"),
            "End": True}}}, type="EXPRESS")
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"  # type: ignore[attr-defined]
    assert "STANDARD" in str(caught.value)


# -- the HTTP Task ------------------------------------------------------------------------

def test_http_tasks_in_a_parent_and_in_distributed_map_children(e2e: E2E,
                                                                server: LoopbackServer) -> None:
    definition = {"StartAt": "Post", "States": {
        "Post": {"Type": "Task", "Resource": HTTP, "ResultPath": "$.posted", "Next": "Map",
                 "Parameters": {"ApiEndpoint": f"{server.base}/batches", "Method": "POST",
                                "RequestBody": {"size.$": "States.ArrayLength($.items)"}},
                 "ResultSelector": {"status.$": "$.StatusCode", "body.$": "$.ResponseBody"}},
        "Map": {**distributed_map({"Get": {
            "Type": "Task", "Resource": HTTP,
            "Parameters": {"ApiEndpoint.$": f"States.Format('{server.base}/items/{{}}', $.id)",
                           "Method": "GET", "QueryParameters": {"v.$": "$.v"}},
            "ResultSelector": {"path.$": "$.ResponseBody.path", "query.$": "$.ResponseBody.query"},
            "End": True}}, "Get", ItemsPath="$.items", MaxConcurrency=2)["States"]["Map"],
                "ResultPath": "$.got"},
    }}
    out = e2e.run(definition, {"items": [{"id": i, "v": f"x{i}"} for i in range(5)]})
    assert out["status"] == "SUCCEEDED", out
    result = json.loads(out["output"])
    assert result["posted"]["status"] == 200
    assert json.loads(result["posted"]["body"]["body"]) == {"size": 5}
    assert result["got"] == [{"path": f"/items/{i}", "query": [["v", f"x{i}"]]}
                             for i in range(5)]


def test_http_status_errors_can_be_caught_by_name(e2e: E2E, server: LoopbackServer) -> None:
    out = e2e.run({"StartAt": "Get", "States": {
        "Get": {"Type": "Task", "Resource": HTTP,
                "Parameters": {"ApiEndpoint": f"{server.base}/status/404", "Method": "GET"},
                "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "Missing",
                           "ResultPath": "$.error"}], "End": True},
        "Missing": {"Type": "Pass", "End": True}}}, {})
    assert out["status"] == "SUCCEEDED", out
    cause = json.loads(json.loads(out["output"])["error"]["Cause"])
    assert cause["StatusCode"] == 404


def test_a_dynamic_host_off_the_allowlist_fails_at_run_time(e2e: E2E) -> None:
    out = e2e.run({"StartAt": "Get", "States": {"Get": {
        "Type": "Task", "Resource": HTTP, "End": True,
        "Parameters": {"ApiEndpoint.$": "$.url", "Method": "GET"}}}},
        {"url": "http://localhost:9/elsewhere"})
    assert (out["status"], out["error"]) == ("FAILED", "States.TaskFailed")
    assert "host 'localhost'" in out["cause"] and "http_allowed_hosts" in out["cause"]


def test_a_static_host_off_the_allowlist_is_refused_at_create(e2e: E2E) -> None:
    with pytest.raises(Exception) as caught:
        e2e.create_machine({"StartAt": "Get", "States": {"Get": {
            "Type": "Task", "Resource": HTTP, "End": True,
            "Parameters": {"ApiEndpoint": "https://example.com/x", "Method": "GET"}}}})
    error = caught.value.response["Error"]  # type: ignore[attr-defined]
    assert error["Code"] == "InvalidDefinition"
    assert "/States/Get/Parameters/ApiEndpoint" in error["Message"]
    assert "example.com" in error["Message"]


# -- aws-sdk:s3 ---------------------------------------------------------------------------

def test_s3_sdk_tasks_in_a_parent_and_in_distributed_map_children(e2e: E2E) -> None:
    bucket = e2e.bucket()
    map_state = distributed_map({
        "Put": {"Type": "Task", "Resource": S3 + "putObject", "ResultPath": None,
                "Parameters": {"Bucket": bucket, "Key.$": "States.Format('items/{}.json', $.id)",
                               "Body.$": "$"}, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": S3 + "getObject",
                "Parameters": {"Bucket": bucket, "Key.$": "States.Format('items/{}.json', $.id)"},
                "ResultSelector": {"body.$": "States.StringToJson($.Body)"},
                "OutputPath": "$.body", "End": True}}, "Put", ItemsPath="$.items",
        MaxConcurrency=2, ResultPath="$.read", Next="List")["States"]["Map"]
    del map_state["End"]
    definition = {"StartAt": "Map", "States": {
        "Map": map_state,
        "List": {"Type": "Task", "Resource": S3 + "listObjectsV2", "ResultPath": "$.listed",
                 "Parameters": {"Bucket": bucket, "Prefix": "items/"},
                 "ResultSelector": {"count.$": "$.KeyCount"}, "Next": "Missing"},
        "Missing": {"Type": "Task", "Resource": S3 + "getObject",
                    "Parameters": {"Bucket": bucket, "Key": "nope"},
                    "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "Done",
                               "ResultPath": "$.missing"}], "End": True},
        "Done": {"Type": "Pass", "End": True},
    }}
    out = e2e.run(definition, {"items": [{"id": i} for i in range(4)]})
    assert out["status"] == "SUCCEEDED", out
    result = json.loads(out["output"])
    assert result["read"] == [{"id": i} for i in range(4)]
    assert result["listed"] == {"count": 4}
    assert result["missing"]["Error"] == "S3.NoSuchKeyException"
    assert e2e.get_json(bucket, "items/2.json") == {"id": 2}

"""Task tokens and activities on a real stack, answered by plain boto3 clients (issue 11 part 3).

* A Distributed Map whose children wait for task tokens completes when the test answers the
  tokens with SendTaskSuccess/SendTaskFailure; the children hold their concurrency permits
  while they wait, so no more than MaxConcurrency tokens are ever out at once (the test only
  answers once MaxConcurrency are out, and a new one can only come after an answer).
* Children that nobody answers time out on their heartbeat (States.HeartbeatTimeout); a late
  answer is refused with TaskTimedOut.
* An activity worker written with plain boto3 (get_activity_task / send_task_success) takes
  and finishes the work of a parent execution; a parent ``.waitForTaskToken`` Task resumes on
  SendTaskSuccess.

No assertion depends on wall time: timeouts only bound how long the test waits.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from e2e_support import E2E, distributed_map, make_stack

pytestmark = pytest.mark.slow

_CREDS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=4)


def _callback_task(ns: str, **fields: Any) -> dict[str, Any]:
    return {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "probe-token",
                       "Payload": {"probe": ns, "id.$": "$.id", "token.$": "$$.Task.Token"}},
        "End": True, **fields}}


def _next_token(e2e: E2E, ns: str, timeout: int = 60) -> dict[str, Any]:
    popped = e2e.redis.blpop([f"probe:{ns}:tokens"], timeout=timeout)
    if popped is None:
        pytest.fail(f"no task token handed out within {timeout}s")
    return dict(json.loads(popped[1]))


def _error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(Exception) as caught:
        call(**kwargs)
    return str(caught.value.response["Error"]["Code"])  # type: ignore[attr-defined]


def test_distributed_map_children_wait_for_tokens_under_max_concurrency(e2e: E2E) -> None:
    ns, limit, total = e2e.unique("cb"), 3, 10
    definition = distributed_map(_callback_task(ns), "Wait", ItemsPath="$.items",
                                 MaxConcurrency=limit, ToleratedFailurePercentage=100)
    arn = e2e.start(e2e.create_machine(definition), {"items": [{"id": i} for i in range(total)]})
    outstanding: list[dict[str, Any]] = []
    received = answered = peak = 0
    while answered < total:
        # Take tokens until MaxConcurrency are out (or every item has handed its token out).
        while len(outstanding) < limit and received < total:
            outstanding.append(_next_token(e2e, ns))
            received += 1
            peak = max(peak, len(outstanding))
            assert len(outstanding) <= limit
        first = outstanding.pop(0)
        if first["id"] % 4 == 0:
            e2e.sfn.send_task_failure(taskToken=first["token"], error="Callback.Rejected",
                                      cause=f"item {first['id']}")
        else:
            e2e.sfn.send_task_heartbeat(taskToken=first["token"])
            e2e.sfn.send_task_success(taskToken=first["token"],
                                      output=json.dumps({"answered": first["id"]}))
        answered += 1
        # A token is answered once: a second answer is refused.
        assert _error(e2e.sfn.send_task_success, taskToken=first["token"],
                      output="{}") == "TaskTimedOut"
    assert peak == limit
    out = e2e.wait(arn, timeout=120)
    assert out["status"] == "SUCCEEDED"
    (run,) = e2e.map_runs(arn)
    assert run["executionCounts"]["succeeded"] == 7
    assert run["executionCounts"]["failed"] == 3
    failed = e2e.children(run["mapRunArn"], "FAILED")
    assert len(failed) == 3
    succeeded = e2e.children(run["mapRunArn"], "SUCCEEDED")
    outputs = sorted(json.loads(e2e.sfn.describe_execution(executionArn=c["executionArn"])
                                ["output"])["answered"] for c in succeeded)
    assert outputs == [i for i in range(total) if i % 4]


def test_children_time_out_on_missing_heartbeats(e2e: E2E) -> None:
    ns = e2e.unique("hb")
    definition = distributed_map(_callback_task(ns, HeartbeatSeconds=1), "Wait",
                                 ItemsPath="$.items", MaxConcurrency=2)
    arn = e2e.start(e2e.create_machine(definition), {"items": [{"id": i} for i in range(2)]})
    tokens = [_next_token(e2e, ns)["token"] for _ in range(2)]
    out = e2e.wait(arn, timeout=120)
    assert out["status"] == "FAILED"
    (run,) = e2e.map_runs(arn)
    children = e2e.children(run["mapRunArn"])
    errors = {e2e.sfn.describe_execution(executionArn=c["executionArn"]).get("error")
              for c in children if c["status"] in ("FAILED", "TIMED_OUT")}
    assert errors == {"States.HeartbeatTimeout"}
    assert _error(e2e.sfn.send_task_success, taskToken=tokens[0], output="{}") == "TaskTimedOut"
    assert _error(e2e.sfn.send_task_heartbeat, taskToken="no-such-token") == "TaskDoesNotExist"


def test_a_plain_boto3_activity_worker_takes_and_finishes_the_work(e2e: E2E) -> None:
    name = e2e.unique("act")
    activity = e2e.sfn.create_activity(name=name)["activityArn"]
    assert e2e.sfn.describe_activity(activityArn=activity)["name"] == name
    assert activity in [a["activityArn"] for a in e2e.sfn.list_activities()["activities"]]
    worker = boto3.client("stepfunctions", endpoint_url=e2e.stack.api_url,
                          config=Config(read_timeout=75, retries={"max_attempts": 0}), **_CREDS)
    done: dict[str, Any] = {}

    def work() -> None:
        for _ in range(3):  # up to three long polls
            task = worker.get_activity_task(activityArn=activity, workerName="w1")
            if task.get("taskToken"):
                data = json.loads(task["input"])
                worker.send_task_heartbeat(taskToken=task["taskToken"])
                worker.send_task_success(taskToken=task["taskToken"],
                                         output=json.dumps({"doubled": data["x"] * 2}))
                done["input"] = data
                return

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    definition = {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "Parameters": {"x.$": "$.x"},
        "HeartbeatSeconds": 120, "TimeoutSeconds": 600, "End": True}}}
    out = e2e.run(definition, {"x": 21}, timeout=120)
    thread.join(timeout=80)
    assert done["input"] == {"x": 21}
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"doubled": 42}
    e2e.sfn.delete_activity(activityArn=activity)
    assert _error(e2e.sfn.describe_activity, activityArn=activity) == "ActivityDoesNotExist"


def test_a_parent_callback_task_resumes_on_send_task_success(e2e: E2E) -> None:
    ns = e2e.unique("parent")
    definition = {"StartAt": "Wait", "States": {
        **_callback_task(ns, ResultPath="$.answer", TimeoutSeconds=300)}}
    arn = e2e.start(e2e.create_machine(definition), {"id": 7})
    token = _next_token(e2e, ns)
    assert token["id"] == 7
    assert _error(e2e.sfn.send_task_success, taskToken=token["token"],
                  output="not json") == "InvalidOutput"
    e2e.sfn.send_task_success(taskToken=token["token"], output='{"ok": true}')
    out = e2e.wait(arn, timeout=60)
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"id": 7, "answer": {"ok": True}}


def test_a_redriven_callback_task_waits_for_a_new_answer(e2e: E2E) -> None:
    ns = e2e.unique("redrive")
    definition = {"StartAt": "Wait", "States": {**_callback_task(ns)}}
    arn = e2e.start(e2e.create_machine(definition), {"id": 1})
    first = _next_token(e2e, ns)
    e2e.sfn.send_task_failure(taskToken=first["token"], error="Callback.NotYet")
    failed = e2e.wait(arn, timeout=60)
    assert (failed["status"], failed.get("error")) == ("FAILED", "Callback.NotYet")
    e2e.sfn.redrive_execution(executionArn=arn)
    again = _next_token(e2e, ns)  # the handler runs again and hands a token out
    e2e.sfn.send_task_heartbeat(taskToken=again["token"])
    e2e.sfn.send_task_success(taskToken=again["token"], output='{"second": true}')
    out = e2e.wait(arn, timeout=60)
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"second": True}


def test_a_child_waits_for_a_token_in_a_parallel_branch(e2e: E2E) -> None:
    ns = e2e.unique("branch")
    callback = {**_callback_task(ns)["Wait"], "OutputPath": "$.token"}
    work = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "probe-gauge",
                           "Payload": {"probe": ns, "id.$": "$.id", "sleep": 0}},
            "OutputPath": "$.Payload", "End": True}
    processor = {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Wait", "States": {"Wait": callback}},
        {"StartAt": "Work", "States": {"Work": work}}]}}
    definition = distributed_map(processor, "Both", ItemsPath="$.items", MaxConcurrency=2)
    arn = e2e.start(e2e.create_machine(definition), {"items": [{"id": 1}, {"id": 2}]})
    for _ in range(2):
        token = _next_token(e2e, ns)
        e2e.sfn.send_task_success(taskToken=token["token"],
                                  output=json.dumps({"token": f"answer-{token['id']}"}))
    out = e2e.wait(arn, timeout=60)
    assert out["status"] == "SUCCEEDED"
    assert sorted(json.loads(out["output"]), key=lambda r: r[1]["id"]) == [
        [f"answer-{i}", {"id": i, "out": i * 10}] for i in (1, 2)]

"""TestState through boto3 against a real server: one state, mocks, inspection levels."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from tests.integration.api.support import REGION

TASK = {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "f", "Payload.$": "$.order"},
    "ResultSelector": {"total.$": "$.Payload.total"},
    "ResultPath": "$.priced",
    "Retry": [{"ErrorEquals": ["Throttled"], "MaxAttempts": 2, "IntervalSeconds": 3,
               "BackoffRate": 2.0}],
    "Catch": [{"ErrorEquals": ["Other"], "Next": "Other"},
              {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
    "Next": "Ship",
}
ORDER = json.dumps({"order": {"id": 7}})


@pytest.fixture
def sfn(server_url: str) -> Any:
    """TestState, like StartSyncExecution, has the ``sync-`` host prefix: turned off."""
    return boto3.client("stepfunctions", endpoint_url=server_url, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(inject_host_prefix=False))


def code(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_mocked_task_succeeds_with_every_processing_step(sfn: Any) -> None:
    out = sfn.test_state(definition=json.dumps(TASK), input=ORDER, inspectionLevel="DEBUG",
                         mock={"result": json.dumps({"Payload": {"total": 42}})})
    assert (out["status"], out["nextState"]) == ("SUCCEEDED", "Ship")
    assert json.loads(out["output"]) == {"order": {"id": 7}, "priced": {"total": 42}}
    data = {k: json.loads(v) if isinstance(v, str) else v for k, v in out["inspectionData"].items()}
    assert data["input"] == data["afterInputPath"] == {"order": {"id": 7}}
    assert data["afterParameters"] == {"FunctionName": "f", "Payload": {"id": 7}}
    assert data["result"] == {"Payload": {"total": 42}}
    assert data["afterResultSelector"] == {"total": 42}
    assert data["afterResultPath"] == {"order": {"id": 7}, "priced": {"total": 42}}
    info = sfn.test_state(definition=json.dumps(TASK), input=ORDER,
                          mock={"result": json.dumps({"Payload": {"total": 1}})})
    assert "inspectionData" not in info


def test_mocked_error_is_retriable_then_caught_then_failed(sfn: Any) -> None:
    throttled = {"errorOutput": {"error": "Throttled", "cause": "slow down"}}
    retry = sfn.test_state(definition=json.dumps(TASK), input=ORDER, mock=throttled,
                           inspectionLevel="DEBUG",
                           stateConfiguration={"retrierRetryCount": 1})
    assert (retry["status"], retry["error"], retry["nextState"]) == (
        "RETRIABLE", "Throttled", "TestState")
    assert retry["inspectionData"]["errorDetails"] == {"retryIndex": 0,
                                                       "retryBackoffIntervalSeconds": 6}
    caught = sfn.test_state(definition=json.dumps(TASK), input=ORDER, mock=throttled,
                            inspectionLevel="DEBUG", stateConfiguration={"retrierRetryCount": 2})
    assert (caught["status"], caught["nextState"], caught["error"]) == (
        "CAUGHT_ERROR", "Recover", "Throttled")
    assert json.loads(caught["output"])["error"] == {"Error": "Throttled", "Cause": "slow down"}
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 1}
    bare = {k: v for k, v in TASK.items() if k not in ("Retry", "Catch")}
    failed = sfn.test_state(definition=json.dumps(bare), input=ORDER, mock=throttled)
    assert (failed["status"], failed["error"], failed["cause"]) == (
        "FAILED", "Throttled", "slow down")


def test_a_state_of_a_whole_machine_with_variables_and_context(sfn: Any) -> None:
    machine = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Default": "Small",
                 "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}]},
        "Tag": {"Type": "Pass", "Parameters": {"who.$": "$owner", "run.$": "$$.Execution.Name"},
                "Assign": {"tagged": True}, "End": True},
        "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}
    chosen = sfn.test_state(definition=json.dumps(machine), stateName="Pick",
                            input=json.dumps({"n": 11}))
    assert (chosen["status"], chosen["nextState"]) == ("SUCCEEDED", "Big")
    tagged = sfn.test_state(definition=json.dumps(machine), stateName="Tag", input="{}",
                            variables=json.dumps({"owner": "ana"}), inspectionLevel="TRACE")
    assert json.loads(tagged["output"]) == {"who": "ana", "run": "test"}
    assert "nextState" not in tagged
    assert json.loads(tagged["inspectionData"]["variables"]) == {"owner": "ana", "tagged": True}


def test_mocked_map_with_tolerated_failures(sfn: Any) -> None:
    dmap = {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 5,
            "ToleratedFailureCount": 1,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "W",
                              "States": {"W": {"Type": "Pass", "End": True}}},
            "End": True}
    data = json.dumps({"items": [1, 2, 3]})
    ok = sfn.test_state(definition=json.dumps(dmap), input=data, inspectionLevel="DEBUG",
                        mock={"result": "[1,2,3]"},
                        stateConfiguration={"mapIterationFailureCount": 1})
    assert (ok["status"], json.loads(ok["output"])) == ("SUCCEEDED", [1, 2, 3])
    inspection = ok["inspectionData"]
    assert json.loads(inspection["afterItemsPath"]) == [1, 2, 3]
    assert (inspection["maxConcurrency"], inspection["toleratedFailureCount"]) == (5, 1)
    over = sfn.test_state(definition=json.dumps(dmap), input=data, mock={"result": "[]"},
                          stateConfiguration={"mapIterationFailureCount": 2})
    assert (over["status"], over["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_refusals(sfn: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as unmocked:
        sfn.test_state(definition=json.dumps(TASK), input=ORDER)
    assert code(unmocked) == "ValidationException"
    assert "only with a mock" in unmocked.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as invalid:
        sfn.test_state(definition=json.dumps({"Type": "Pass", "Bogus": 1}))
    assert code(invalid) == "InvalidDefinition"
    with pytest.raises(botocore.exceptions.ClientError) as both:
        sfn.test_state(definition=json.dumps(TASK),
                       mock={"result": "{}", "errorOutput": {"error": "E"}})
    assert code(both) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as bad_input:
        sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}), input="{nope")
    assert code(bad_input) == "InvalidExecutionInput"

"""Every Task resource and input type is either run or refused at create (issue 11: the audit).

One table: resource -> accepted with nothing enabled, accepted with every integration enabled.
A resource accepted here is one a worker or the control plane runs; everything else is refused
with UNSUPPORTED_FEATURE at ``/States/T/Resource``, naming the state and the resource. A second
table does the same for ItemReader resources and input types.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.executions import runnable
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import IntegrationsSettings, Settings
from orchestrator.store.memory_store import MemoryStore

OFF = IntegrationsSettings()
ON = IntegrationsSettings(start_execution=True, http_invoke=True, s3_sdk=True,
                          http_allowed_hosts=["api.example.com", "127.0.0.1:8080",
                                              "*.internal.example"])

#: (resource, accepted with nothing enabled, accepted with everything enabled)
AUDIT = [
    ("arn:aws:states:::lambda:invoke", True, True),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken", True, True),
    ("arn:aws:lambda:us-east-1:123456789012:function:f", True, True),
    ("arn:aws:lambda:us-east-1:123456789012:function:f:live", True, True),
    ("arn:aws:states:us-east-1:123456789012:activity:work", True, True),
    ("arn:aws:states:::lambda:invoke.sync", False, False),
    ("arn:aws:states:::states:startExecution", False, True),
    ("arn:aws:states:::states:startExecution.sync", False, True),
    ("arn:aws:states:::states:startExecution.sync:2", False, True),
    ("arn:aws:states:::states:startExecution.waitForTaskToken", False, False),
    ("arn:aws:states:::states:startExecution.sync:3", False, False),
    ("arn:aws:states:::http:invoke", False, True),
    ("arn:aws:states:::http:invoke.waitForTaskToken", False, False),
    ("arn:aws:states:::aws-sdk:s3:getObject", False, True),
    ("arn:aws:states:::aws-sdk:s3:putObject", False, True),
    ("arn:aws:states:::aws-sdk:s3:listObjectsV2", False, True),
    ("arn:aws:states:::aws-sdk:s3:headObject", False, True),
    ("arn:aws:states:::aws-sdk:s3:deleteObject", False, True),
    ("arn:aws:states:::aws-sdk:s3:copyObject", False, True),
    ("arn:aws:states:::aws-sdk:s3:listBuckets", False, False),
    ("arn:aws:states:::aws-sdk:s3:getObject.waitForTaskToken", False, False),
    ("arn:aws:states:::aws-sdk:dynamodb:getItem", False, False),
    ("arn:aws:states:::sqs:sendMessage", False, False),
    ("arn:aws:states:::sns:publish", False, False),
    ("arn:aws:states:::events:putEvents", False, False),
    ("arn:aws:states:::ecs:runTask.sync", False, False),
    ("arn:aws:states:::glue:startJobRun.sync", False, False),
    ("arn:aws:states:::batch:submitJob.sync", False, False),
    ("arn:aws:states:::dynamodb:putItem", False, False),
    ("arn:aws:states:::bedrock:invokeModel", False, False),
]


def task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True,
                                             **fields}}}


def _http(**parameters: Any) -> dict[str, Any]:
    return task("arn:aws:states:::http:invoke", Parameters=parameters)


@pytest.mark.parametrize(("resource", "off", "on"), AUDIT)
def test_every_task_resource_is_run_or_refused_at_create(resource: str, off: bool,
                                                         on: bool) -> None:
    for settings, accepted in ((OFF, off), (ON, on)):
        problems = runnable.unsupported_problems(task(resource), "STANDARD", settings)
        assert (problems == []) is accepted, (resource, settings, problems)
        if not accepted:
            (problem,) = problems
            assert (problem.path, problem.code) == ("/States/T/Resource", "UNSUPPORTED_FEATURE")
            assert "Task 'T'" in problem.message and resource in problem.message


@pytest.mark.parametrize(("resource", "variable"), [
    ("arn:aws:states:::states:startExecution.sync", "STEPMAP_INTEGRATIONS__START_EXECUTION"),
    ("arn:aws:states:::http:invoke", "STEPMAP_INTEGRATIONS__HTTP_INVOKE"),
    ("arn:aws:states:::aws-sdk:s3:getObject", "STEPMAP_INTEGRATIONS__S3_SDK"),
])
def test_a_refusal_names_the_setting_that_enables_the_integration(resource: str,
                                                                  variable: str) -> None:
    (problem,) = runnable.unsupported_problems(task(resource), "STANDARD", OFF)
    assert variable in problem.message


@pytest.mark.parametrize("resource", [
    "arn:aws:states:::states:startExecution", "arn:aws:states:::states:startExecution.sync",
])
def test_nested_executions_are_refused_in_express_executions_and_children(resource: str) -> None:
    (problem,) = runnable.unsupported_problems(task(resource), "EXPRESS", ON)
    assert "STANDARD" in problem.message
    children = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            **task(resource)}}}}
    (inner,) = runnable.unsupported_problems(children, "STANDARD", ON)
    assert inner.path == "/States/M/ItemProcessor/States/T/Resource"
    standard_children = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            **task(resource)}}}}
    assert runnable.unsupported_problems(standard_children, "STANDARD", ON) == []


@pytest.mark.parametrize(("endpoint", "allowed"), [
    ("https://api.example.com/v1/things", True),
    ("https://API.EXAMPLE.COM/v1", True),
    ("http://127.0.0.1:8080/x", True),
    ("http://127.0.0.1:9090/x", False),
    ("https://a.internal.example/x", True),
    ("https://evil.example.net/", False),
    ("ftp://api.example.com/x", False),
    ("not a url", False),
])
def test_a_static_api_endpoint_must_name_an_allowed_host(endpoint: str, allowed: bool) -> None:
    problems = runnable.unsupported_problems(_http(ApiEndpoint=endpoint, Method="GET"),
                                             "STANDARD", ON)
    assert (problems == []) is allowed
    if not allowed:
        (problem,) = problems
        assert problem.path == "/States/T/Parameters/ApiEndpoint"
        assert "HTTP Task 'T'" in problem.message


def test_a_dynamic_api_endpoint_is_checked_at_run_time_not_at_create() -> None:
    assert runnable.unsupported_problems(_http(**{"ApiEndpoint.$": "$.url", "Method": "GET"}),
                                         "STANDARD", ON) == []
    jsonata = task("arn:aws:states:::http:invoke", QueryLanguage="JSONata",
                   Arguments={"ApiEndpoint": "{% $states.input.url %}", "Method": "GET"})
    assert runnable.unsupported_problems(jsonata, "STANDARD", ON) == []
    static = task("arn:aws:states:::http:invoke", QueryLanguage="JSONata",
                  Arguments={"ApiEndpoint": "https://evil.example.net", "Method": "GET"})
    (problem,) = runnable.unsupported_problems(static, "STANDARD", ON)
    assert problem.path == "/States/T/Arguments/ApiEndpoint"


def test_a_static_method_and_connection_must_be_known() -> None:
    definition = _http(ApiEndpoint="https://api.example.com", Method="FETCH",
                       Authentication={"ConnectionArn": "arn:aws:events:us-east-1:1:connection/x"})
    paths = sorted(p.path for p in runnable.unsupported_problems(definition, "STANDARD", ON))
    assert paths == ["/States/T/Parameters/Authentication/ConnectionArn",
                     "/States/T/Parameters/Method"]


def test_create_state_machine_refuses_what_the_settings_do_not_enable() -> None:
    definition = (
        '{"StartAt": "T", "States": {"T": {"Type": "Task", "End": true, '
        '"Resource": "arn:aws:states:::aws-sdk:s3:getObject", '
        '"Parameters": {"Bucket": "b", "Key": "k"}}}}')
    off = StepFunctionsService(MemoryStore(), Settings(), publisher=None)  # type: ignore[arg-type]
    answer = off.validate_state_machine_definition({"definition": definition})
    assert answer["result"] == "FAIL"
    (diagnostic,) = answer["diagnostics"]
    assert diagnostic["code"] == "UNSUPPORTED_FEATURE"
    assert diagnostic["location"] == "/States/T/Resource"
    on = StepFunctionsService(MemoryStore(), Settings(integrations=ON),
                              publisher=None)  # type: ignore[arg-type]
    assert on.validate_state_machine_definition({"definition": definition})["result"] == "OK"


@pytest.mark.parametrize("entry", ["https://api.example.com", "api.example.com/v1", "host:http",
                                   "", "user@host"])
def test_an_allowed_host_that_is_not_a_host_is_refused_in_settings(entry: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        IntegrationsSettings(http_allowed_hosts=[entry])


#: (ItemReader Resource, ReaderConfig.InputType or None, accepted)
READERS = [
    ("arn:aws:states:::s3:getObject", "CSV", True),
    ("arn:aws:states:::s3:getObject", "JSON", True),
    ("arn:aws:states:::s3:getObject", "JSONL", True),
    ("arn:aws:states:::s3:getObject", "MANIFEST", True),
    ("arn:aws:states:::s3:getObject", "PARQUET", True),  # pyarrow is in the dev extra
    ("arn:aws:states:::s3:getObject", "XML", False),
    ("arn:aws:states:::s3:listObjectsV2", None, True),
    ("arn:aws:states:::dynamodb:scan", None, False),
    ("arn:aws:states:::athena:getQueryResults", None, False),
]


@pytest.mark.parametrize(("resource", "input_type", "accepted"), READERS)
def test_every_item_reader_and_input_type_is_read_or_refused_at_create(
        resource: str, input_type: str | None, accepted: bool) -> None:
    reader: dict[str, Any] = {"Resource": resource, "Parameters": {"Bucket": "b", "Key": "k"}}
    if input_type is not None:
        reader["ReaderConfig"] = {"InputType": input_type}
    if resource.endswith("listObjectsV2"):
        reader["Parameters"] = {"Bucket": "b"}
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemReader": reader, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
    service = StepFunctionsService(MemoryStore(), Settings(), publisher=None)  # type: ignore[arg-type]
    answer = service.validate_state_machine_definition({"definition": json.dumps(definition)})
    assert (answer["result"] == "OK") is accepted, answer
    if not accepted:
        assert all(d["location"].startswith("/States/M/ItemReader") for d in answer["diagnostics"])

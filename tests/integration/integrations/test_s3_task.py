"""``aws-sdk:s3:<action>`` on a worker against the real local S3 server (issue 11 part 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.asl import StatesError, TaskRequest
from orchestrator.settings import Settings
from workers.integrations import WorkerIntegrations
from workers.integrations.s3_task import error_name
from workers.invoker import WorkerTaskInvoker


@pytest.fixture
def invoker(s3_endpoint_url: str) -> WorkerTaskInvoker:
    settings = Settings(s3={"endpoint_url": s3_endpoint_url}, integrations={"s3_sdk": True})
    return WorkerTaskInvoker(integrations=WorkerIntegrations.from_settings(settings))


def call(invoker: WorkerTaskInvoker, action: str, **parameters: Any) -> Any:
    return invoker.invoke(TaskRequest(state_name="S3", parameters=parameters,
                                      resource=f"arn:aws:states:::aws-sdk:s3:{action}"))


def failure(invoker: WorkerTaskInvoker, action: str, **parameters: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        call(invoker, action, **parameters)
    return caught.value


def test_put_get_head_copy_list_delete_round_trip(invoker: WorkerTaskInvoker, bucket: str,
                                                  s3_client: Any) -> None:
    put = call(invoker, "putObject", Bucket=bucket, Key="a/doc.json", Body={"n": 1},
               ContentType="application/json")
    assert "ETag" in put and "ResponseMetadata" not in put
    assert s3_client.get_object(Bucket=bucket, Key="a/doc.json")["Body"].read() == b'{"n":1}'
    call(invoker, "putObject", Bucket=bucket, Key="a/text.txt", Body="plain text")
    got = call(invoker, "getObject", Bucket=bucket, Key="a/text.txt")
    assert got["Body"] == "plain text" and got["ContentLength"] == 10
    assert isinstance(got["LastModified"], str)
    json.dumps(got)  # the whole result is JSON
    head = call(invoker, "headObject", Bucket=bucket, Key="a/doc.json")
    assert head["ContentLength"] == 7 and head["ContentType"] == "application/json"
    call(invoker, "copyObject", Bucket=bucket, Key="b/copy.json",
         CopySource=f"{bucket}/a/doc.json")
    listed = call(invoker, "listObjectsV2", Bucket=bucket, Prefix="")
    assert [o["Key"] for o in listed["Contents"]] == ["a/doc.json", "a/text.txt", "b/copy.json"]
    assert listed["KeyCount"] == 3
    call(invoker, "deleteObject", Bucket=bucket, Key="a/text.txt")
    after = call(invoker, "listObjectsV2", Bucket=bucket, Prefix="a/")
    assert [o["Key"] for o in after["Contents"]] == ["a/doc.json"]


def test_s3_errors_are_named_as_aws_names_sdk_integration_errors(invoker: WorkerTaskInvoker,
                                                                 bucket: str) -> None:
    missing = failure(invoker, "getObject", Bucket=bucket, Key="nope")
    assert missing.error == "S3.NoSuchKeyException"
    assert "Service: S3, Status Code: 404" in missing.cause
    assert failure(invoker, "headObject", Bucket=bucket, Key="nope").error == \
        "S3.NoSuchKeyException"
    assert failure(invoker, "listObjectsV2", Bucket="no-such-bucket-xyz").error == \
        "S3.NoSuchBucketException"


def test_bad_parameters_fail_naming_the_parameter(invoker: WorkerTaskInvoker,
                                                  bucket: str) -> None:
    error = failure(invoker, "getObject", Bucket=bucket)
    assert error.error == "States.TaskFailed" and "Key" in error.cause
    error = failure(invoker, "getObject", Bucket=bucket, Key="k", Colour="red")
    assert error.error == "States.TaskFailed" and "Colour" in error.cause


@pytest.mark.parametrize(("code", "action", "name"), [
    ("NoSuchKey", "getObject", "S3.NoSuchKeyException"),
    ("404", "headObject", "S3.NoSuchKeyException"),
    ("BucketAlreadyExists", "putObject", "S3.BucketAlreadyExistsException"),
    ("InvalidObjectStateException", "getObject", "S3.InvalidObjectStateException"),
    ("AccessDenied", "getObject", "S3.AccessDeniedException"),
])
def test_error_names_get_the_exception_suffix_once(code: str, action: str, name: str) -> None:
    assert error_name(code, action) == name


def test_s3_that_is_off_on_the_worker_fails_the_task_saying_so() -> None:
    error = failure(WorkerTaskInvoker(), "getObject", Bucket="b", Key="k")
    assert "STEPMAP_INTEGRATIONS__S3_SDK" in error.cause

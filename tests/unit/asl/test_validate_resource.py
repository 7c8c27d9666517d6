"""Task Resource must be an ARN (AWS: SCHEMA_VALIDATION_FAILED otherwise)."""

from __future__ import annotations

import pytest

from orchestrator.asl import validate_definition
from orchestrator.asl._validate_variables import resource_error


def _task(resource: object) -> dict[str, object]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::aws-sdk:s3:listObjectsV2",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::http:invoke",
        "arn:aws:lambda:us-east-1:123456789012:function:work",
        "arn:aws:lambda:us-east-1:123456789012:function:work:$LATEST",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:work:prod",
        "arn:aws:states:us-east-1:123456789012:activity:Approve",
        "arn:aws-us-gov:states:::sqs:sendMessage",
    ],
)
def test_arn_resources_are_accepted(resource: str) -> None:
    assert resource_error(resource) is None
    assert validate_definition(_task(resource)) == []


@pytest.mark.parametrize(
    "resource",
    [
        "my-function",
        "r:x",
        "arn:aws:lambda:us-east-1:123456789012:work",
        "arn:aws:lambda:::function:work",
        "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        "arn:aws:states:us-east-1:12345:activity:A",
        "arn:aws:states:::lambda:in voke",
        "ARN:aws:states:::lambda:invoke",
    ],
)
def test_non_arn_resources_are_rejected_at_the_resource(resource: str) -> None:
    problems = validate_definition(_task(resource))

    assert [(p.path, p.code) for p in problems] == [
        ("/States/T/Resource", "SCHEMA_VALIDATION_FAILED")
    ]
    assert resource in problems[0].message

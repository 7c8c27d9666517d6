"""History event names and detail shapes (AWS GetExecutionHistory, HistoryEvent).

Events are plain dicts: ``{"timestamp": epoch seconds (float), "type", "id",
"previousEventId", "<xxx>EventDetails": {...}}``; inputs and outputs inside details are
JSON strings. Which family a Task uses depends on its Resource, as on AWS: a Lambda
function ARN gives ``LambdaFunction*`` events, an activity ARN ``Activity*`` events,
anything else (service integrations, stepmap handlers) ``Task*`` events with
``resourceType``/``resource`` split from the ARN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENTERED: dict[str, str] = {
    "Pass": "PassStateEntered",
    "Task": "TaskStateEntered",
    "Choice": "ChoiceStateEntered",
    "Wait": "WaitStateEntered",
    "Succeed": "SucceedStateEntered",
    "Fail": "FailStateEntered",
    "Parallel": "ParallelStateEntered",
    "Map": "MapStateEntered",
}

EXITED: dict[str, str] = {
    "Pass": "PassStateExited",
    "Task": "TaskStateExited",
    "Choice": "ChoiceStateExited",
    "Wait": "WaitStateExited",
    "Succeed": "SucceedStateExited",
    "Parallel": "ParallelStateExited",
    "Map": "MapStateExited",
}

NOT_TRUNCATED: dict[str, bool] = {"truncated": False}

LAMBDA = "lambda"
ACTIVITY = "activity"
SERVICE = "task"


@dataclass(frozen=True, slots=True)
class TaskEvents:
    """Event types and detail keys for one Task resource family."""

    family: str
    resource_type: str
    resource: str
    region: str

    @property
    def prefix(self) -> str:
        """``LambdaFunction``, ``Activity`` or ``Task``."""
        return {LAMBDA: "LambdaFunction", ACTIVITY: "Activity"}.get(self.family, "Task")

    def details_key(self, suffix: str) -> str:
        """e.g. ``taskScheduledEventDetails`` for ``Scheduled``."""
        prefix = self.prefix
        return prefix[0].lower() + prefix[1:] + suffix + "EventDetails"

    def scheduled(
        self, input_json: str, timeout: int | None, heartbeat: int | None
    ) -> dict[str, Any]:
        """Details of the ``...Scheduled`` event."""
        if self.family == LAMBDA:
            d: dict[str, Any] = {
                "resource": self.resource,
                "input": input_json,
                "inputDetails": NOT_TRUNCATED,
            }
            if timeout is not None:
                d["timeoutInSeconds"] = timeout
            return d
        if self.family == ACTIVITY:
            d = {
                "resource": self.resource,
                "input": input_json,
                "inputDetails": NOT_TRUNCATED,
            }
        else:
            d = {
                "resourceType": self.resource_type,
                "resource": self.resource,
                "region": self.region,
                "parameters": input_json,
            }
        if timeout is not None:
            d["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            d["heartbeatInSeconds"] = heartbeat
        return d

    def started(self) -> dict[str, Any] | None:
        """Details of the ``...Started`` event (Lambda has none)."""
        if self.family == LAMBDA:
            return None
        if self.family == ACTIVITY:
            return {"workerName": "stepmap"}
        return {"resourceType": self.resource_type, "resource": self.resource}

    def succeeded(self, output_json: str) -> dict[str, Any]:
        """Details of the ``...Succeeded`` event."""
        d: dict[str, Any] = {"output": output_json, "outputDetails": NOT_TRUNCATED}
        if self.family == SERVICE:
            d = {"resourceType": self.resource_type, "resource": self.resource, **d}
        return d

    def failed(self, error: str, cause: str) -> dict[str, Any]:
        """Details of the ``...Failed`` / ``...TimedOut`` event."""
        d: dict[str, Any] = (
            {"error": error, "cause": cause} if cause else {"error": error}
        )
        if self.family == SERVICE:
            d = {"resourceType": self.resource_type, "resource": self.resource, **d}
        return d


def task_events(resource: str, state_machine_arn: str) -> TaskEvents:
    """Classify a Task Resource for history purposes."""
    parts = state_machine_arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else "us-east-1"
    arn = resource.split(":")
    if (
        len(arn) >= 7
        and arn[0] == "arn"
        and arn[2] == "lambda"
        and arn[5] == "function"
    ):
        return TaskEvents(LAMBDA, "lambda", resource, region)
    if (
        len(arn) >= 7
        and arn[0] == "arn"
        and arn[2] == "states"
        and arn[5] == "activity"
    ):
        return TaskEvents(ACTIVITY, "activity", resource, region)
    if resource.startswith("arn:") and len(arn) >= 7 and arn[2] == "states" and arn[5]:
        # arn:aws:states:::lambda:invoke -> ("lambda", "invoke");
        # arn:aws:states:::aws-sdk:s3:listObjectsV2 -> ("aws-sdk:s3", "listObjectsV2")
        service = arn[5:]
        return TaskEvents(SERVICE, ":".join(service[:-1]), service[-1], region)
    if ":" in resource:
        head, _, tail = resource.rpartition(":")
        return TaskEvents(SERVICE, head, tail, region)
    return TaskEvents(SERVICE, "stepmap", resource, region)

"""Request models and the operation table of task callbacks and activities (AWS face).

SendTaskSuccess/Failure/Heartbeat and Create/Describe/List/DeleteActivity are plain service
calls; GetActivityTask is a long poll (:func:`long_poll`): the service is asked again every
:data:`POLL_INTERVAL` seconds for up to :data:`LONG_POLL_SECONDS`, sleeping on the event loop
in between, so a thousand idle activity workers hold no thread. Merged into
:data:`orchestrator.api.aws_json.OPERATIONS`; field types follow the botocore model.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.concurrency import run_in_threadpool

from orchestrator.api.schemas import AwsModel
from orchestrator.executions.service import StepFunctionsService

#: AWS holds a GetActivityTask request up to 60 seconds before answering ``{}``.
LONG_POLL_SECONDS = 60.0
POLL_INTERVAL = 0.2


class SendTaskSuccessInput(AwsModel):
    task_token: str
    output: str


class SendTaskFailureInput(AwsModel):
    task_token: str
    error: str | None = None
    cause: str | None = None


class SendTaskHeartbeatInput(AwsModel):
    task_token: str


class CreateActivityInput(AwsModel):
    name: str
    tags: list[dict[str, Any]] | None = None
    encryption_configuration: dict[str, Any] | None = None


class ActivityArnInput(AwsModel):
    """DescribeActivity, DeleteActivity."""

    activity_arn: str


class ListActivitiesInput(AwsModel):
    max_results: int | None = None
    next_token: str | None = None


class GetActivityTaskInput(AwsModel):
    activity_arn: str
    worker_name: str | None = None


OPERATIONS: dict[str, tuple[type[AwsModel], str]] = {
    "SendTaskSuccess": (SendTaskSuccessInput, "send_task_success"),
    "SendTaskFailure": (SendTaskFailureInput, "send_task_failure"),
    "SendTaskHeartbeat": (SendTaskHeartbeatInput, "send_task_heartbeat"),
    "CreateActivity": (CreateActivityInput, "create_activity"),
    "DescribeActivity": (ActivityArnInput, "describe_activity"),
    "ListActivities": (ListActivitiesInput, "list_activities"),
    "DeleteActivity": (ActivityArnInput, "delete_activity"),
    "GetActivityTask": (GetActivityTaskInput, "get_activity_task"),
}

#: Operations answered by :func:`long_poll` rather than one service call.
LONG_POLLED = frozenset({"GetActivityTask"})


async def long_poll(service: StepFunctionsService, payload: dict[str, Any],
                    seconds: float = LONG_POLL_SECONDS) -> dict[str, Any]:
    """GetActivityTask: a task as soon as one is queued, or ``{}`` after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        found: dict[str, Any] = await run_in_threadpool(service.get_activity_task, payload)
        if found or loop.time() >= deadline:
            return found
        await asyncio.sleep(min(POLL_INTERVAL, max(0.0, deadline - loop.time())))

"""SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat and the activity operations.

A service mixin over :class:`~orchestrator.store.callbacks.CallbackStore` (``callbacks``,
wired by ``orchestrator.api.app.build_service``). An answer is stored on the task token (the
first one wins) and the waiting execution is advanced through the publisher; the control plane
reads the answer there (``orchestrator/control/callbacks.py``). Errors are AWS's:
``InvalidToken`` (not a token stepmap could have issued), ``TaskDoesNotExist`` (no call waits
on it), ``TaskTimedOut`` (answered, timed out, or its execution ended), ``InvalidOutput``
(not JSON), ``ActivityDoesNotExist``.

``GetActivityTask`` here answers at once (a task, or ``{}``); the long poll is the API's
(``orchestrator/api/activities.py``), which asks again without holding a thread.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

from orchestrator.executions import params
from orchestrator.executions.arns import validate_name
from orchestrator.executions.errors import InvalidArn, InvalidToken, ServiceError
from orchestrator.statuses import ExecutionStatus
from orchestrator.store.callbacks import CallbackStore, TokenRecord, report_json

Request = Mapping[str, Any]
Response = dict[str, Any]

MAX_TOKEN_LENGTH = 2048
_ACTIVITY_ARN = re.compile(r"arn:aws:states:([a-z0-9-]+):(\d{12}):activity:([^:]+)")


class TaskDoesNotExist(ServiceError):
    code = "TaskDoesNotExist"


class TaskTimedOut(ServiceError):
    code = "TaskTimedOut"


class InvalidOutput(ServiceError):
    code = "InvalidOutput"


class ActivityDoesNotExist(ServiceError):
    code = "ActivityDoesNotExist"


def activity_arn(region: str, account: str, name: str) -> str:
    """The ARN of an activity."""
    return f"arn:aws:states:{region}:{account}:activity:{name}"


def check_activity_arn(arn: str) -> str:
    """``arn`` if it is an activity ARN, else InvalidArn."""
    if not isinstance(arn, str) or len(arn) > 256 or _ACTIVITY_ARN.fullmatch(arn) is None:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return arn


class CallbacksMixin:
    """Task token answers and activities (see the module docstring)."""

    callbacks: CallbackStore | None = None

    def _callbacks(self) -> CallbackStore:
        if self.callbacks is None:
            raise ServiceError("Task callbacks and activities need the Redis state store")
        return self.callbacks

    # -- task tokens ------------------------------------------------------------------------------
    def _waiting(self: Any, request: Request) -> TokenRecord:
        token = params.required_str(request, "taskToken")
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not token.strip():
            raise InvalidToken(f"Invalid Token: '{token[:64]}'")
        record: TokenRecord | None = self._callbacks().get(token)
        if record is None:
            raise TaskDoesNotExist("Task does not exist anymore")
        if record.answer is not None:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        execution = self.store.get_execution(record.execution_arn)
        if execution is not None and execution.get("status") != ExecutionStatus.RUNNING.value:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        return record

    def _settle(self: Any, record: TokenRecord, answer: str) -> None:
        if not self._callbacks().answer(record.token, answer):
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        self.publisher.advance_execution(record.execution_arn)

    def send_task_success(self: Any, request: Request) -> Response:
        """SendTaskSuccess: the Task succeeds with ``output`` (a JSON text)."""
        record = self._waiting(request)
        text = request.get("output")
        if not isinstance(text, str):
            raise InvalidOutput("Invalid output: the output must be a JSON text")
        limit = int(self.settings.limits.payload_bytes)
        if len(text.encode()) > limit:
            raise InvalidOutput(f"Invalid output: larger than {limit} bytes")
        try:
            output = json.loads(text)
        except ValueError as exc:
            raise InvalidOutput(f"Invalid output: not JSON ({exc})") from None
        self._settle(record, report_json(record.execution_arn, record.sequence, output=output))
        return {}

    def send_task_failure(self: Any, request: Request) -> Response:
        """SendTaskFailure: the Task fails with ``error`` and ``cause`` (both optional)."""
        record = self._waiting(request)
        error = params.optional_str(request, "error", 256) or ""
        cause = params.optional_str(request, "cause", 32768) or ""
        self._settle(record, report_json(record.execution_arn, record.sequence,
                                         error=error, cause=cause))
        return {}

    def send_task_heartbeat(self: Any, request: Request) -> Response:
        """SendTaskHeartbeat: the ``HeartbeatSeconds`` clock of the Task starts again."""
        record = self._waiting(request)
        self._callbacks().beat(record.token)
        return {}

    # -- activities -------------------------------------------------------------------------------
    def create_activity(self: Any, request: Request) -> Response:
        """CreateActivity (idempotent: the same name answers the same activity)."""
        name = params.required_str(request, "name", 80)
        validate_name(name)
        arn = activity_arn(self.settings.api.region, self.settings.api.account_id, name)
        record = self._callbacks().create_activity(arn, name, time.time())
        return {"activityArn": arn, "creationDate": record["creationDate"]}

    def _activity(self: Any, request: Request) -> dict[str, Any]:
        arn = check_activity_arn(params.required_str(request, "activityArn"))
        record: dict[str, Any] | None = self._callbacks().get_activity(arn)
        if record is None:
            raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
        return record

    def describe_activity(self: Any, request: Request) -> Response:
        """DescribeActivity."""
        return dict(self._activity(request))

    def list_activities(self: Any, request: Request) -> Response:
        """ListActivities, oldest first."""
        size = params.page_size(request)
        token = params.optional_str(request, "nextToken", 1024)
        position = self._tokens.resolve(token, "ListActivities", "")
        after = (float(position[0]), str(position[1])) if position else None
        found = self._callbacks().list_activities(after, size + 1)
        out: Response = {"activities": found[:size]}
        if len(found) > size:
            last = found[size - 1]
            out["nextToken"] = self._tokens.issue(
                "ListActivities", "", [last["creationDate"], last["activityArn"]])
        return out

    def delete_activity(self: Any, request: Request) -> Response:
        """DeleteActivity (deleting one that does not exist is not an error)."""
        arn = check_activity_arn(params.required_str(request, "activityArn"))
        self._callbacks().delete_activity(arn)
        return {}

    def get_activity_task(self: Any, request: Request) -> Response:
        """One look for a task of the activity: ``{taskToken, input}`` or ``{}``."""
        arn = self._activity(request)["activityArn"]
        params.optional_str(request, "workerName", 80)
        record = self._callbacks().take(arn)
        if record is None:
            return {}
        return {"taskToken": record.token, "input": record.input or "{}"}

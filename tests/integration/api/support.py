"""Shared pieces of the API tests: constants, fakes of the control plane and the Map Run API."""

from __future__ import annotations

import json
import socket
import time
import warnings
from typing import Any

from orchestrator.executions.errors import InvalidToken, ResourceNotFound, ValidationException
from orchestrator.executions.service import StepFunctionsService

with warnings.catch_warnings():
    # starlette 1.x warns at import that its TestClient wants httpx2; httpx still works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::000000000000:role/stepmap"
SM_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
MAP_RUN = (
    f"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:orders/Items:2b9b1c2e-0d8f-4a43-9d7e-1f7f4f1f0a11"
)
CHILD = (
    f"arn:aws:states:{REGION}:{ACCOUNT}:execution:orders/Items:7a3c0f5e-9c43-3b8e-a1c7-3f1c0b5c8a21"
)
PASS_DEFINITION = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
BROKEN_DEFINITION = json.dumps(
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Bogus"}}}
)


class FakePublisher:
    """Records what the control plane was asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def advance_execution(self, execution_arn: str) -> None:
        self.calls.append(("advance", execution_arn))

    def stop_execution(self, execution_arn: str) -> None:
        self.calls.append(("stop", execution_arn))

    def redrive_execution(self, execution_arn: str) -> None:
        self.calls.append(("redrive", execution_arn))


CHILD_DESCRIPTION = {
    "executionArn": CHILD,
    "stateMachineArn": f"{SM_PREFIX}orders/Items",
    "name": CHILD.rsplit(":", 1)[1],
    "status": "SUCCEEDED",
    "startDate": 1700000000.0,
    "stopDate": 1700000001.0,
    "input": "{}",
    "inputDetails": {"included": True},
    "output": "{}",
    "outputDetails": {"included": True},
    "mapRunArn": MAP_RUN,
    "redriveCount": 0,
    "redriveStatus": "NOT_REDRIVABLE",
    "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
}


class FakeMapRuns:
    """A Map Run API with one Map Run (MAP_RUN) holding one child (CHILD)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.parent: str | None = None

    def _known(self, map_run_arn: str) -> None:
        if map_run_arn != MAP_RUN:
            raise ResourceNotFound(f"Resource not found: '{map_run_arn}'")

    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]:
        self._known(map_run_arn)
        counts = {
            k: 0
            for k in (
                "pending",
                "running",
                "succeeded",
                "failed",
                "timedOut",
                "aborted",
                "total",
                "resultsWritten",
            )
        }
        return {
            "mapRunArn": MAP_RUN,
            "executionArn": self.parent or "",
            "status": "RUNNING",
            "startDate": 1700000000.0,
            "maxConcurrency": 5,
            "toleratedFailurePercentage": 0.0,
            "toleratedFailureCount": 0,
            "itemCounts": counts,
            "executionCounts": counts,
        }

    def list_map_runs(
        self, execution_arn: str, max_results: int, next_token: str | None
    ) -> dict[str, Any]:
        self.calls.append(("list_map_runs", (execution_arn, max_results, next_token)))
        if next_token is not None:
            raise InvalidToken(f"Invalid Token: '{next_token}'")
        return {
            "mapRuns": [
                {
                    "executionArn": execution_arn,
                    "mapRunArn": MAP_RUN,
                    "stateMachineArn": f"{SM_PREFIX}orders/Items",
                    "startDate": 1700000000.0,
                }
            ]
        }

    def update_map_run(
        self,
        map_run_arn: str,
        max_concurrency: int | None,
        tolerated_failure_percentage: float | None,
        tolerated_failure_count: int | None,
    ) -> None:
        self._known(map_run_arn)
        self.calls.append(
            (
                "update_map_run",
                (
                    map_run_arn,
                    max_concurrency,
                    tolerated_failure_percentage,
                    tolerated_failure_count,
                ),
            )
        )
        if max_concurrency == 999:
            raise ValidationException(
                "Map Run is completed", reason="CANNOT_UPDATE_COMPLETED_MAP_RUN"
            )

    def list_children(
        self,
        map_run_arn: str,
        status_filter: str | None,
        redrive_filter: str | None,
        max_results: int,
        next_token: str | None,
    ) -> dict[str, Any]:
        self._known(map_run_arn)
        self.calls.append(
            ("list_children", (map_run_arn, status_filter, redrive_filter, max_results, next_token))
        )
        item = {
            k: CHILD_DESCRIPTION[k]
            for k in (
                "executionArn",
                "stateMachineArn",
                "name",
                "status",
                "startDate",
                "stopDate",
                "mapRunArn",
            )
        }
        return {
            "executions": [dict(item, itemCount=1)] if status_filter in (None, "SUCCEEDED") else []
        }

    def describe_child(self, execution_arn: str) -> dict[str, Any] | None:
        return dict(CHILD_DESCRIPTION) if execution_arn == CHILD else None

    def child_history(
        self,
        execution_arn: str,
        max_results: int,
        reverse_order: bool,
        next_token: str | None,
        include_execution_data: bool,
    ) -> dict[str, Any] | None:
        if execution_arn != CHILD:
            return None
        self.calls.append(
            (
                "child_history",
                (execution_arn, max_results, reverse_order, next_token, include_execution_data),
            )
        )
        return {
            "events": [
                {
                    "timestamp": 1700000000.0,
                    "type": "ExecutionStarted",
                    "id": 1,
                    "previousEventId": 0,
                    "executionStartedEventDetails": {
                        "input": "{}",
                        "inputDetails": {"truncated": False},
                    },
                }
            ]
        }

    def abort_for_execution(self, execution_arn: str) -> None:
        self.calls.append(("abort_for_execution", (execution_arn,)))


def aws(client: TestClient, operation: str, body: Any = None, **headers: str) -> Any:
    """One AWS JSON 1.0 call through the TestClient; returns the httpx response."""
    content = (
        json.dumps(body if body is not None else {}).encode()
        if not isinstance(body, bytes)
        else body
    )
    return client.post(
        "/",
        content=content,
        headers={
            "X-Amz-Target": f"AWSStepFunctions.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
            **headers,
        },
    )


def finish(service: StepFunctionsService, execution_arn: str, status: str, **fields: Any) -> None:
    """Do what the control plane does when an execution ends."""
    service.store.transition_execution(
        execution_arn, {"RUNNING"}, {"status": status, "stopDate": time.time(), **fields}
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

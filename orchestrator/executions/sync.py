"""StartSyncExecution: start an EXPRESS execution and answer when it has ended.

The execution runs like any other (the control plane takes it from the publisher); this call
waits for its end by polling the store, at most :data:`EXPRESS_LIMIT_SECONDS` (AWS's 5-minute
limit of EXPRESS executions), after which it is stopped and answered ``TIMED_OUT``.

boto3 prefixes ``sync-`` to the endpoint host for this operation (the model's ``hostPrefix``);
against an IP or ``localhost`` endpoint, create the client with
``botocore.config.Config(inject_host_prefix=False)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from orchestrator.executions import family, params, qualified, views
from orchestrator.executions.arns import MAX_ARN_LENGTH, parse_state_machine_arn
from orchestrator.executions.errors import StateMachineDoesNotExist, StateMachineTypeNotSupported
from orchestrator.executions.parts import ServiceParts

EXPRESS_LIMIT_SECONDS = 300.0
SYNC_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT")
BILLED_MEMORY_MB = 64

Request = Mapping[str, Any]


class SyncMixin(ServiceParts):
    """StartSyncExecution over ``start_execution`` and the store."""

    publisher: Any

    def start_execution(self, request: Request, *,
                        links: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defined by the service."""
        raise NotImplementedError

    def _stop_timed_out(self, arn: str) -> None:
        """End an EXPRESS execution that ran past the limit: TIMED_OUT, control plane told."""
        now = self._clock()
        details = {"error": "States.Timeout",
                   "cause": f"The EXPRESS execution ran longer than {EXPRESS_LIMIT_SECONDS:g}s"}
        event = {"timestamp": now, "type": "ExecutionTimedOut",
                 "executionTimedOutEventDetails": details}
        fields = {"status": "TIMED_OUT", "stopDate": now, **details}
        if self.store.transition_execution(arn, {"RUNNING"}, fields, event=event) is not None:
            self.publisher.stop_execution(arn)

    def _machine_type(self, given: str) -> str:
        ref = qualified.parse(given) if qualified.is_qualified(given) else None
        base = ref.base_arn if ref else parse_state_machine_arn(given).arn
        record = self.store.get_state_machine(base)
        if record is None or family.is_hidden(record):
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{base}'")
        return str(record["type"])

    def start_sync_execution(self, request: Request) -> dict[str, Any]:
        """StartSyncExecution of an EXPRESS state machine (or its version or alias)."""
        given = params.required_str(request, "stateMachineArn", MAX_ARN_LENGTH)
        included = params.enum_str(
            request, "includedData", ("ALL_DATA", "METADATA_ONLY"), "ALL_DATA"
        )
        if self._machine_type(given) != "EXPRESS":
            raise StateMachineTypeNotSupported(
                "StartSyncExecution runs EXPRESS state machines only; "
                f"'{given}' is STANDARD (use StartExecution)"
            )
        started = self.start_execution({k: v for k, v in request.items() if k != "includedData"})
        arn = started["executionArn"]
        record = self._wait(arn, float(started["startDate"]))
        return _sync_output(record, include_data=included == "ALL_DATA")

    def _wait(self, arn: str, start: float) -> dict[str, Any]:
        pause = 0.01
        while True:
            record = self.store.get_execution(arn) or {}
            if record.get("status") not in (None, "RUNNING"):
                return record
            if self._clock() - start >= EXPRESS_LIMIT_SECONDS:
                self._stop_timed_out(arn)
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def _sync_output(record: dict[str, Any], include_data: bool) -> dict[str, Any]:
    """StartSyncExecutionOutput of a finished execution record."""
    described = views.describe_execution(record, include_data=include_data)
    status = record["status"] if record["status"] in SYNC_STATUSES else "FAILED"
    out: dict[str, Any] = {
        k: described[k]
        for k in ("executionArn", "stateMachineArn", "name", "startDate", "stopDate", "error",
                  "cause", "input", "inputDetails", "output", "outputDetails", "traceHeader")
        if k in described
    }
    out["status"] = status
    duration_ms = (float(record.get("stopDate", record["startDate"])) - record["startDate"]) * 1000
    out["billingDetails"] = {
        "billedMemoryUsedInMB": BILLED_MEMORY_MB,
        "billedDurationInMilliseconds": max(100, int(math.ceil(duration_ms / 100.0)) * 100),
    }
    return out

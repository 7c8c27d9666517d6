"""Nested executions: ``arn:aws:states:::states:startExecution`` run by the control plane.

A Task with this resource (in a parent, or in a Map Run child handed over to the control plane
like a callback Task: ``workers/handover.py``) suspends its execution; :meth:`NestedExecutions.start`
starts the nested execution through the service's StartExecution and registers the call on a
token of the callback store, so the answer lives in Redis and nothing waits in a process:

* plain (request-response): the answer is StartExecution's response at once
  (``{"ExecutionArn", "StartDate"}`` plus the SDK metadata AWS adds);
* ``.sync`` / ``.sync:2``: the nested execution records the call it answers (``syncCall``);
  when it ends, :meth:`NestedExecutions.ended` answers with its DescribeExecution in AWS's
  PascalCase (``.sync``: ``Input``/``Output`` JSON text, ``.sync:2``: JSON values). A nested
  execution that does not succeed fails the Task with ``States.TaskFailed`` and that
  description (with its ``Error``/``Cause``) as the cause. Stopping the parent stops the
  ``.sync`` executions it waits for (:meth:`NestedExecutions.stop_waited`).

``TimeoutSeconds``/``HeartbeatSeconds`` use the callback timers. ``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID``
in the ``Input`` object is recorded on the nested execution as its parent link (``startedBy``
on its record; AWS's API shows it nowhere either, only AWS's console links the two). The nested execution's name is
``Name`` or, without it, derived from the call (parent ARN and call sequence), so a start made
again after a crash finds the first one (StartExecution is idempotent for a RUNNING execution
with the same input).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from orchestrator import messages
from orchestrator.asl import Checkpoint, TaskRequest
from orchestrator.control.callbacks import CallbackWaits, task_token
from orchestrator.executions import views
from orchestrator.executions.errors import ExecutionAlreadyExists, ServiceError
from orchestrator.jsontext import dumps
from orchestrator.resources import start_execution_pattern
from orchestrator.statuses import ExecutionStatus
from orchestrator.store.callbacks import report_json

log = logging.getLogger(__name__)

#: The Input key that links a nested execution to the execution that started it (AWS's name).
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
#: Execution record fields: the waiting call a nested ``.sync`` execution answers, its link.
SYNC_CALL = "syncCall"
STARTED_BY_FIELD = "startedBy"
_NAMESPACE = uuid.UUID("5f0c3a52-8f64-4c7e-9d0e-6f3a3c1d2b7e")


class NestedParameterError(ValueError):
    """The Task's parameters do not make a StartExecution request."""


class Starter(Protocol):
    """The service operations nested executions use."""

    def start_execution(self, request: Mapping[str, Any], *,
                        links: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def stop_execution(self, request: Mapping[str, Any]) -> dict[str, Any]: ...


class Records(Protocol):
    """What nested executions read of the execution store."""

    def get_execution(self, arn: str) -> dict[str, Any] | None: ...

    def get_checkpoint(self, arn: str) -> str | None: ...


def start_request(parameters: Any, parent_arn: str, sequence: int,
                  redrive_count: int = 0) -> dict[str, Any]:
    """The StartExecution request a Task's parameters make (``StateMachineArn``, ``Input``, ``Name``).

    Without ``Name`` the name is derived from the call (parent, its redrive, the sequence).

    Raises:
        NestedParameterError: a field is missing or of the wrong type, named.
    """
    if not isinstance(parameters, Mapping):
        raise NestedParameterError("the parameters must be an object with StateMachineArn")
    machine = parameters.get("StateMachineArn")
    if not isinstance(machine, str):
        raise NestedParameterError(f"StateMachineArn must be a string, got {machine!r}")
    given = parameters.get("Input", {})
    text = given if isinstance(given, str) else dumps(given)
    name = parameters.get("Name")
    if name is None:
        name = str(uuid.uuid5(_NAMESPACE, f"{parent_arn}#{redrive_count}#{sequence}"))
    if not isinstance(name, str):
        raise NestedParameterError(f"Name must be a string, got {name!r}")
    return {"stateMachineArn": machine, "input": text, "name": name}


def started_by(input_text: str) -> str | None:
    """The parent link an execution's input names (``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID``)."""
    try:
        value = json.loads(input_text)
    except ValueError:
        return None
    link = value.get(STARTED_BY) if isinstance(value, dict) else None
    return link if isinstance(link, str) else None


def _millis(seconds: Any) -> int:
    return int(round(float(seconds) * 1000))


def _pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    return value


def sync_output(record: dict[str, Any], pattern: str) -> dict[str, Any]:
    """DescribeExecution of a nested execution as ``.sync`` (JSON text) or ``.sync:2`` shows it."""
    described: dict[str, Any] = _pascal(views.describe_execution(record))
    for field in ("StartDate", "StopDate", "RedriveDate"):
        if field in described:
            described[field] = _millis(described[field])
    if pattern == ".sync:2":
        for field in ("Input", "Output"):
            if isinstance(described.get(field), str):
                described[field] = json.loads(described[field])
    return described


def start_response(arn: str, start_date: Any) -> dict[str, Any]:
    """The plain startExecution result: StartExecution's response as the integration shows it."""
    return {
        "ExecutionArn": arn, "StartDate": _millis(start_date),
        "SdkHttpMetadata": {"HttpHeaders": {"Content-Type": "application/x-amz-json-1.0"},
                            "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": str(uuid.uuid4())},
    }


class NestedExecutions:
    """Starts nested executions and answers the calls that wait for them."""

    def __init__(self, starter: Starter, records: Records, waits: CallbackWaits) -> None:
        self.starter = starter
        self.records = records
        self.waits = waits

    def start(self, arn: str, sequence: int, request: TaskRequest) -> None:
        """Start the nested execution of a call (a replayed call starts nothing new)."""
        pattern = start_execution_pattern(request.resource) or ""
        store = self.waits.store
        token = task_token(request) or f"{uuid.uuid4().hex}{uuid.uuid4().hex}"
        replay = False
        if not store.register(token, arn, sequence, state_name=request.state_name,
                              timeout=request.timeout_seconds, heartbeat=request.heartbeat_seconds):
            known = store.token_of_call(arn, sequence)
            if known is None:
                return
            token, replay = known, True  # registered before a crash; maybe not started
        else:
            self.waits.schedule(token, request.timeout_seconds, request.heartbeat_seconds)
        try:
            execution = request.context.get("Execution")
            redrive = execution.get("RedriveCount", 0) if isinstance(execution, dict) else 0
            body = start_request(request.parameters, arn, sequence, int(redrive or 0))
        except NestedParameterError as exc:
            self.waits.settle(token, arn, sequence, "StepFunctions.ValidationException",
                              f"Task '{request.state_name}': {exc}")
            return
        links: dict[str, Any] = {}
        parent = started_by(body["input"])
        if parent is not None:
            links[STARTED_BY_FIELD] = parent
        if pattern:
            links[SYNC_CALL] = {"arn": arn, "sequence": sequence, "token": token,
                                "pattern": pattern}
        try:
            started = self.starter.start_execution(body, links=links)
        except ExecutionAlreadyExists as exc:
            if replay:
                return  # this call started it before a crash and it has ended: answered then
            self.waits.settle(token, arn, sequence, f"StepFunctions.{exc.code}", exc.message)
            return
        except ServiceError as exc:
            self.waits.settle(token, arn, sequence, f"StepFunctions.{exc.code}", exc.message)
            return
        store.attach_child(token, started["executionArn"])
        if not pattern and store.answer(token, report_json(
                arn, sequence, output=start_response(started["executionArn"],
                                                     started["startDate"]))):
            self.waits.bus.send_control(messages.ADVANCE_EXECUTION, arn)

    def ended(self, child_arn: str) -> None:
        """A nested execution ended: answer the ``.sync`` call that waits for it, if any."""
        record = self.records.get_execution(child_arn)
        call = record.get(SYNC_CALL) if record is not None else None
        if record is None or not isinstance(call, dict) \
                or record.get("status") == ExecutionStatus.RUNNING:
            return
        described = sync_output(record, str(call["pattern"]))
        if record["status"] == ExecutionStatus.SUCCEEDED:
            answer = report_json(call["arn"], int(call["sequence"]), output=described)
        else:
            answer = report_json(call["arn"], int(call["sequence"]), error="States.TaskFailed",
                                 cause=dumps(described))
        if self.waits.store.answer(str(call["token"]), answer):
            self.waits.bus.send_control(messages.ADVANCE_EXECUTION, call["arn"])

    def stop_waited(self, arn: str) -> int:
        """Stop the nested executions a stopped execution waits for; returns how many."""
        raw = self.records.get_checkpoint(arn)
        if not raw:
            return 0
        checkpoint = Checkpoint.from_dict(json.loads(raw))
        sequences = [int(c["seq"]) for c in checkpoint.pending.values()]
        if not checkpoint.pending and checkpoint.pending_request() is not None:
            sequences.append(len(checkpoint.entries))
        stopped = 0
        for sequence in sequences:
            token = self.waits.store.token_of_call(arn, sequence)
            record = self.waits.store.get(token) if token is not None else None
            if record is None or record.child is None or record.answer is not None:
                continue
            child = self.records.get_execution(record.child)
            if child is None or not isinstance(child.get(SYNC_CALL), dict):
                continue  # a plain start: the nested execution runs on, as on AWS
            if child.get("status") == ExecutionStatus.RUNNING:
                log.info("%s stopped: stopping its nested execution %s", arn, record.child)
                self.starter.stop_execution({
                    "executionArn": record.child, "error": "States.Aborted",
                    "cause": f"The execution that started it ({arn}) was stopped"})
                stopped += 1
        return stopped

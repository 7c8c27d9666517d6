"""TestState: run one state on an input, with mocks, and report what happened.

The state runs in the ordinary engine inside a wrapper machine
(:mod:`orchestrator.executions.teststate_wrap`); nothing is called and nothing waits. Status:
``SUCCEEDED`` (output and ``nextState``), ``CAUGHT_ERROR`` (a Catch took the error: its output
and ``nextState``), ``RETRIABLE`` (a Retry would retry the mocked error now, given
``stateConfiguration.retrierRetryCount``; ``nextState`` is the state itself) or ``FAILED``.

``inspectionLevel`` INFO answers only that; DEBUG and TRACE add ``inspectionData``: the
input after each processing step (each step computed by running a Pass state that does just
that step), the result, the variables after the state, the error handler that applied, and
for a Map its items, concurrency and tolerated failures. TRACE adds HTTP request/response
data on AWS; stepmap runs no HTTP Task, so TRACE equals DEBUG.

Map: with ``stateConfiguration.mapIterationFailureCount`` above the tolerated failures the
Map fails with ``States.ExceedToleratedFailureThreshold``; ``mapItemReaderData`` (a JSON
array) stands for the items an ItemReader would read. Not supported (refused or ignored with
a note in the README): ``mock.fieldValidationMode`` (no API models of mocked services: every
mode acts as NONE), ``errorCausedByState``, ``context`` beyond the Execution and
StateMachine fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from orchestrator.asl import (
    EXCEED_TOLERATED_FAILURE_CAUSE,
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    EngineOptions,
    ExecutionInfo,
    Failed,
    Ports,
    StatesError,
    Succeeded,
    TaskRequest,
    parse_definition,
    run_execution,
    validate_definition,
)
from orchestrator.executions import jsontext, params
from orchestrator.executions import teststate_wrap as wrap
from orchestrator.executions.errors import (
    InvalidDefinition,
    InvalidExecutionInput,
    ValidationException,
)

LEVELS = ("INFO", "DEBUG", "TRACE")
MAX_DEFINITION_BYTES = 1_048_576


class MockTasks:
    """The Task invoker of a TestState run: answers with the mock and records the call."""

    def __init__(self, result: Any = None, error: tuple[str, str] | None = None) -> None:
        self.result = result
        self.error = error
        self.parameters: Any = None

    def invoke(self, request: TaskRequest) -> Any:
        self.parameters = request.parameters
        if self.error is not None:
            raise StatesError(*self.error)
        return self.result


class NoWait:
    """TestState's clock: real time, and a Wait state does not wait."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, state_name: str, until: datetime) -> None:
        return None


def _json(request: Mapping[str, Any], field: str, default: Any) -> Any:
    text = params.optional_str(request, field, 262_144, min_length=0)
    if text is None:
        return default
    try:
        return jsontext.loads(text)  # strict and depth-bounded, like every client JSON
    except jsontext.JsonRefused as exc:
        raise InvalidExecutionInput(f"'{field}' is not acceptable JSON: {exc}") from None


def _info(context: Mapping[str, Any], role_arn: str) -> ExecutionInfo:
    execution = context.get("Execution") or {}
    machine = context.get("StateMachine") or {}
    started = execution.get("StartTime")
    start = (datetime.fromisoformat(started.replace("Z", "+00:00"))
             if isinstance(started, str) else datetime.now(UTC))
    return ExecutionInfo(
        execution_arn=str(execution.get(
            "Id", "arn:aws:states:us-east-1:000000000000:execution:TestState:test")),
        name=str(execution.get("Name", "test")),
        state_machine_arn=str(machine.get(
            "Id", "arn:aws:states:us-east-1:000000000000:stateMachine:TestState")),
        state_machine_name=str(machine.get("Name", "TestState")),
        start_time=start,
        role_arn=str(execution.get("RoleArn", role_arn)),
    )


class TestStateRun:
    """One TestState request, checked; :meth:`answer` runs it."""

    __test__ = False  # not a pytest test class

    def __init__(self, request: Mapping[str, Any]) -> None:
        definition = params.required_str(request, "definition", MAX_DEFINITION_BYTES)
        self.role_arn = params.optional_str(request, "roleArn", 256) or (
            "arn:aws:iam::000000000000:role/stepmap")
        self.level = params.enum_str(request, "inspectionLevel", LEVELS, "INFO") or "INFO"
        self.input = _json(request, "input", {})
        self.variables = _json(request, "variables", {})
        self.context = _json(request, "context", {})
        if not isinstance(self.variables, dict) or not isinstance(self.context, dict):
            raise ValidationException("'variables' and 'context' must be JSON objects")
        mock = request.get("mock") or {}
        config = request.get("stateConfiguration") or {}
        if not isinstance(mock, dict) or not isinstance(config, dict):
            raise ValidationException("'mock' and 'stateConfiguration' must be objects")
        if self.context and not mock:
            raise ValidationException("'context' may only be given together with a mock")
        params.enum_str(mock, "fieldValidationMode", ("STRICT", "PRESENT", "NONE"))
        self.retry_count = params.int_in_range(config, "retrierRetryCount", 0) or 0
        self.failures = params.int_in_range(config, "mapIterationFailureCount", 0)
        self.reader_data = (None if config.get("mapItemReaderData") is None
                            else _json(config, "mapItemReaderData", None))
        error = mock.get("errorOutput")
        if "result" in mock and error is not None:
            raise ValidationException("mock takes either result or errorOutput, not both")
        self.mock_error = None
        if error is not None:
            if not isinstance(error, dict):
                raise ValidationException("mock.errorOutput must be an object")
            self.mock_error = (str(error.get("error", "")), str(error.get("cause", "")))
        self.mock_result = _json(mock, "result", None) if "result" in mock else None
        self.mocked = bool(mock)
        name, state = wrap.pick_state(definition, params.optional_str(request, "stateName", 80))
        if self.mocked and state.get("Type") not in ("Task", "Map", "Parallel"):
            raise ValidationException(
                f"mock applies to Task, Map and Parallel states, not to a {state.get('Type')}")
        self.wrapper = wrap.build(name, state, self.variables, self.mocked)
        self.tasks = MockTasks(self.mock_result, self._planned_error())

    def _planned_error(self) -> tuple[str, str] | None:
        """The mocked error, or the Map's tolerance failure from mapIterationFailureCount."""
        state = self.wrapper.state
        if self.mock_error is not None or state.get("Type") != "Map" or not self.failures:
            return self.mock_error
        total = len(self.reader_data) if isinstance(self.reader_data, list) else None
        count = state.get("ToleratedFailureCount")
        percentage = state.get("ToleratedFailurePercentage")
        within = (isinstance(count, int) and self.failures <= count) or (
            isinstance(percentage, (int, float)) and total
            and 100.0 * self.failures / total <= percentage)
        if within:
            return None
        return EXCEED_TOLERATED_FAILURE_THRESHOLD, EXCEED_TOLERATED_FAILURE_CAUSE

    def _run(self, definition: Mapping[str, Any], data: Any, tasks: MockTasks) -> Any:
        text = json.dumps(definition)
        problems = list(validate_definition(text))
        if problems:
            raise InvalidDefinition(
                "Invalid State Machine Definition: "
                + ", ".join(f"'{p.code}: {p.message} at {p.path or '/'}'" for p in problems),
                [{"code": p.code, "message": p.message, "location": p.path or "/"}
                 for p in problems],
            )
        machine = parse_definition(text)
        ports = Ports(tasks=tasks, clock=NoWait())
        return run_execution(machine, data, _info(self.context, self.role_arn), ports,
                             options=EngineOptions(history=True))

    def answer(self) -> dict[str, Any]:
        """The TestStateOutput."""
        state, name = self.wrapper.state, self.wrapper.name
        planned = self.tasks.error
        if planned is not None:
            decision = wrap.retry_decision(state, planned[0], self.retry_count)
            if decision is not None:
                out: dict[str, Any] = {"status": "RETRIABLE", "error": planned[0],
                                       "cause": planned[1], "nextState": name}
                if self.level != "INFO":
                    out["inspectionData"] = {**self._stages(None), "errorDetails": {
                        "retryIndex": decision[0], "retryBackoffIntervalSeconds": decision[1]}}
                return out
        outcome = self._run(self.wrapper.definition, self.input, self.tasks)
        entered = [e["stateEnteredEventDetails"]["name"] for e in outcome.events
                   if "stateEnteredEventDetails" in e]
        following = next((self.wrapper.targets[n] for n in entered if n in self.wrapper.targets),
                         None)
        error = planned or _failure(outcome.events)
        if isinstance(outcome, Failed):
            out = {"status": "FAILED", "error": outcome.error, "cause": outcome.cause}
        else:
            assert isinstance(outcome, Succeeded)
            out = {"status": "CAUGHT_ERROR" if error else "SUCCEEDED",
                   "output": json.dumps(outcome.output, separators=(",", ":"))}
            if error:
                out.update({"error": error[0], "cause": error[1]})
            if following is not None:
                out["nextState"] = following
        if self.level != "INFO":
            data = self._stages(outcome.output if isinstance(outcome, Succeeded) else None)
            data["variables"] = json.dumps(self._variables_after(outcome.events, name))
            index = wrap.catch_index(state, error[0]) if error and "output" in out else None
            if index is not None:
                data["errorDetails"] = {"catchIndex": index}
            out["inspectionData"] = data
        return out

    def _variables_after(self, events: list[dict[str, Any]], name: str) -> dict[str, Any]:
        values = dict(self.variables)
        for event in events:
            details = event.get("stateExitedEventDetails") or {}
            if details.get("name") == name:
                values.update({k: json.loads(v)
                               for k, v in (details.get("assignedVariables") or {}).items()})
        return values

    def _step(self, fields: Mapping[str, Any], data: Any) -> Any:
        """The output of a Pass state with ``fields`` on ``data`` (None when it fails)."""
        if data is None:
            return None
        wrapper = wrap.build("step", {"Type": "Pass", **fields, "End": True}, self.variables,
                             False)
        outcome = self._run(wrapper.definition, data, MockTasks())
        return outcome.output if isinstance(outcome, Succeeded) else None

    def _stages(self, output: Any) -> dict[str, Any]:
        """inspectionData: each processing step of the state, as JSON text."""
        state, raw = self.wrapper.state, self.input
        stages: dict[str, Any] = {"input": raw}
        stages["afterInputPath"] = self._step({"InputPath": state.get("InputPath", "$")}, raw)
        kind = state.get("Type")
        if kind == "Map":
            self._map_stages(state, stages)
        elif "Parameters" in state:
            stages["afterParameters"] = (self.tasks.parameters if kind == "Task" and
                                         self.tasks.parameters is not None else
                                         self._step({"Parameters": state["Parameters"]},
                                                    stages["afterInputPath"]))
        result: Any = None
        if kind in ("Task", "Map", "Parallel"):
            result = self.mock_result if self.tasks.error is None else None
        elif kind == "Pass":
            result = state.get("Result", stages.get("afterParameters", stages["afterInputPath"]))
        if result is not None:
            stages["result"] = result
            selected = (self._step({"Parameters": state["ResultSelector"]}, result)
                        if "ResultSelector" in state else result)
            if "ResultSelector" in state:
                stages["afterResultSelector"] = selected
            if "ResultPath" in state or kind in ("Task", "Map", "Parallel", "Pass"):
                stages["afterResultPath"] = self._step(
                    {"Result": selected, "ResultPath": state.get("ResultPath", "$")}, raw)
        if output is not None:
            stages["output"] = output
        shown = {k: json.dumps(v, separators=(",", ":")) for k, v in stages.items()
                 if v is not None and k != "output"}
        for key in ("maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage"):
            if key in stages:
                shown[key] = stages[key]
        return shown

    def _map_stages(self, state: Mapping[str, Any], stages: dict[str, Any]) -> None:
        items = (self.reader_data if self.reader_data is not None else
                 self._step({"InputPath": state.get("InputPath", "$"),
                             "OutputPath": state.get("ItemsPath", "$")}, self.input))
        stages["afterItemsPath"] = items
        stages["maxConcurrency"] = int(state.get("MaxConcurrency", 0))
        if "ToleratedFailureCount" in state:
            stages["toleratedFailureCount"] = int(state["ToleratedFailureCount"])
        if "ToleratedFailurePercentage" in state:
            stages["toleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])


def _failure(events: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The error a failed Task/Lambda event of the run reports, if any."""
    for event in events:
        for key, details in event.items():
            if key.endswith("FailedEventDetails") and isinstance(details, dict) and (
                    not key.startswith("execution")):
                return str(details.get("error", "")), str(details.get("cause", ""))
    return None


class StateTestingMixin:
    """TestState on the service."""

    def test_state(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """TestState (AWS JSON face)."""
        return TestStateRun(request).answer()

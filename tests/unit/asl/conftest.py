"""Shared fakes for the engine's unit tests: clock, task invoker, map runner, fixture loader.

Nothing here sleeps or does I/O beyond reading fixture files: the clock advances instantly
and records every wait; the invoker answers from a dict; the map runner either runs the
ItemProcessor itself (with the engine) or answers canned results.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asl import (
    DistributedMapRequest,
    EngineOptions,
    ExecutionInfo,
    Failed,
    MapRunResultRequest,
    Pending,
    Ports,
    StatesError,
    Succeeded,
    TaskRequest,
    WaitRequest,
    parse_definition,
    run_execution,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "asl"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = "123456789012"
SM_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:sm"
EXEC_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:sm:exec-1"


def execution_info(start: datetime = T0) -> ExecutionInfo:
    """The ExecutionInfo every test uses unless it needs another."""
    return ExecutionInfo(
        execution_arn=EXEC_ARN,
        name="exec-1",
        state_machine_arn=SM_ARN,
        state_machine_name="sm",
        start_time=start,
    )


class FakeClock:
    """A clock that starts at ``start``, advances instantly on ``wait_until`` and records waits.

    With ``suspend_after`` set, a wait longer than that many seconds raises Pending(WaitRequest)
    instead (what the orchestrator's clock does for long waits).
    """

    def __init__(
        self, start: datetime = T0, suspend_after: float | None = None
    ) -> None:
        self.current = start
        self.waits: list[tuple[str, datetime]] = []
        self.suspend_after = suspend_after

    def now(self) -> datetime:
        return self.current

    def wait_until(self, state_name: str, until: datetime) -> None:
        if (
            self.suspend_after is not None
            and (until - self.current).total_seconds() > self.suspend_after
        ):
            raise Pending(WaitRequest(state_name, until))
        self.waits.append((state_name, until))
        self.current = max(self.current, until)

    def waited_seconds(self) -> list[float]:
        """Each wait's target as seconds after T0, in order."""
        return [(until - T0).total_seconds() for _, until in self.waits]


Answer = Any  # a value, {"error", "cause"}, or a callable(parameters) -> value


class FakeInvoker:
    """A TaskInvoker answering from ``answers[resource]``.

    An answer is a JSON value (the result), ``{"error": ..., "cause": ...}`` (raised as a
    StatesError), a callable taking the parameters, or a list of answers consumed in order
    (the last one repeats). Resources in ``pending`` raise Pending(TaskRequest) instead.
    """

    def __init__(
        self, answers: dict[str, Answer] | None = None, pending: set[str] | None = None
    ) -> None:
        self.answers = dict(answers or {})
        self.pending = set(pending or ())
        self.calls: list[TaskRequest] = []
        self._counts: dict[str, int] = {}

    def invoke(self, request: TaskRequest) -> Any:
        self.calls.append(request)
        if request.resource in self.pending:
            raise Pending(request)
        answer = self.answers.get(request.resource, _ECHO)
        if isinstance(answer, list) and answer and all(_is_answer(a) for a in answer):
            n = self._counts.get(request.resource, 0)
            self._counts[request.resource] = n + 1
            answer = answer[min(n, len(answer) - 1)]
            if isinstance(answer, dict) and "result" in answer and len(answer) == 1:
                answer = answer["result"]
        return _apply(answer, request.parameters)


_ECHO = object()


def _is_answer(a: Any) -> bool:
    return isinstance(a, dict) and ("error" in a or "result" in a)


def _apply(answer: Answer, parameters: Any) -> Any:
    if answer is _ECHO:
        return parameters
    if callable(answer):
        return answer(parameters)
    return raise_or_return(answer)


def raise_or_return(answer: Any) -> Any:
    """``{"error", "cause"?}`` raises that StatesError; any other answer is the result."""
    if isinstance(answer, dict) and "error" in answer and set(answer) <= {"error", "cause"}:
        raise StatesError(answer["error"], answer.get("cause", ""))
    return answer


class FakeMapRunner:
    """A MapRunner that runs the ItemProcessor of each item with the engine (synchronously).

    ``result`` raises Pending(MapRunResultRequest) the first ``pending_polls`` times per run;
    ``fail`` makes every run fail with that (error, cause).
    """

    def __init__(
        self,
        tasks: FakeInvoker | None = None,
        pending_polls: int = 0,
        fail: tuple[str, str] | None = None,
    ) -> None:
        self.tasks = tasks or FakeInvoker()
        self.pending_polls = pending_polls
        self.fail = fail
        self.requests: list[DistributedMapRequest] = []
        self._polls: dict[str, int] = {}

    def start(self, request: DistributedMapRequest) -> str:
        self.requests.append(request)
        label = request.label or request.state_name
        return f"arn:aws:states:us-east-1:{ACCOUNT}:mapRun:sm/{label}:run-{len(self.requests)}"

    def result(self, map_run_arn: str) -> Any:
        polls = self._polls.get(map_run_arn, 0)
        self._polls[map_run_arn] = polls + 1
        if polls < self.pending_polls:
            raise Pending(
                MapRunResultRequest(self.requests[-1].state_name, map_run_arn)
            )
        if self.fail is not None:
            raise StatesError(*self.fail)
        request = self.requests[int(map_run_arn.rsplit("-", 1)[1]) - 1]
        return run_map_items(request, self.tasks)


def run_map_items(request: DistributedMapRequest, tasks: FakeInvoker) -> list[Any]:
    """What a Map Run computes for ``request`` (items from input, ItemSelector, batching)."""
    from orchestrator.asl import compile_template

    items = request.items if request.items is not None else []
    pairs = list(items.items()) if isinstance(items, dict) else list(enumerate(items))
    selector = (
        compile_template(request.item_selector)
        if request.item_selector is not None
        else None
    )
    child_inputs = []
    for index, (key, value) in enumerate(pairs):
        if selector is not None:
            ctx = dict(request.context)
            item = {"Index": index, "Value": value, "Source": "STATE_DATA"}
            if isinstance(items, dict):
                item["Key"] = key
            ctx["Map"] = {"Item": item}
            value = selector.evaluate(request.effective_input, ctx)
        child_inputs.append(value)
    if request.batcher is not None and request.batcher.get("MaxItemsPerBatch"):
        size = request.batcher["MaxItemsPerBatch"]
        batches = []
        for i in range(0, len(child_inputs), size):
            batch: dict[str, Any] = {"Items": child_inputs[i : i + size]}
            if request.batcher.get("BatchInput") is not None:
                batch["BatchInput"] = request.batcher["BatchInput"]
            batches.append(batch)
        child_inputs = batches
    child = parse_definition(
        {k: v for k, v in request.processor.items() if k != "ProcessorConfig"}
    )
    outputs = []
    for child_input in child_inputs:
        outcome = run_execution(
            child,
            child_input,
            execution_info(),
            Ports(tasks=tasks, clock=FakeClock()),
            options=EngineOptions(history=False),
        )
        if isinstance(outcome, Failed):
            raise StatesError(
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            )
        assert isinstance(outcome, Succeeded)
        outputs.append(outcome.output)
    return outputs


@pytest.fixture
def load_fixture() -> Callable[[str], Any]:
    """Return a loader: ``load_fixture("run/pass_result")`` -> a fresh copy of the JSON file."""
    cache: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in cache:
            path = FIXTURES / (name if name.endswith(".json") else name + ".json")
            cache[name] = json.loads(path.read_text(encoding="utf-8"))
        return copy.deepcopy(cache[name])

    return load


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock at T0."""
    return FakeClock()


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)

"""Conformance suite: executions whose exact result AWS documents or was observed to produce.

Every case in ``tests/fixtures/asl/conformance/<topic>.json`` (except ``definitions_*``) is a
definition, an input and the expected result, with a ``source`` naming the AWS documentation
page or spec section the expectation comes from. The runner parses the definition, runs it
with fake ports and compares the outcome exactly (ints, floats and booleans are told apart).

Case fields:

- ``expected``: ``{"output": v}`` | ``{"error"?: e, "cause"?: c}`` (a failure; only the given
  parts are compared) |
  ``{"output_pattern": p}`` for random results (``"re:<regex>"`` strings,
  ``{"int_range": [lo, hi]}``, ``{"same_as": "<sibling key>"}``).
- ``task_results``: ``{resource | FunctionName | state name: [answer, ...]}`` consumed in call
  order; an answer ``{"error", "cause"}`` makes the task fail with that error.
- ``expected_task_calls``: ``[{"resource", "parameters"}]``, every call in order;
  ``expected_task_timeouts``: ``[[timeout_seconds, heartbeat_seconds], ...]`` per call.
- ``expected_wait_seconds`` / ``expected_wait_until`` / ``expected_wait_max_seconds``: the
  clock's ``wait_until`` targets (Wait states and Retry delays), as seconds after the fixed
  ``now`` or as timestamps.
- ``map_results`` / ``expected_map_requests``: canned Distributed Map Run results (or errors)
  and the request fields the engine must send (``reader``/``batcher``/``result_writer``
  compared as subsets).
- ``expected_event_types``: the history event types of the run, in order (AWS
  GetExecutionHistory shapes for simple, deterministic flows).
- ``expected_events``: ``[{"type": t, <details>...}]``: for each entry, the next event of that
  type (in history order) must contain the given detail fields (compared as subsets).
- ``context``: ExecutionInfo overrides; ``options``: EngineOptions overrides;
  ``machine_type``: STANDARD (default) or EXPRESS.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asl import (
    Checkpoint,
    DistributedMapRequest,
    EngineOptions,
    ExecutionInfo,
    Failed,
    MapRunResultRequest,
    Pending,
    Ports,
    StatesError,
    Succeeded,
    Suspended,
    TaskRequest,
    WaitRequest,
    parse_definition,
    run_execution,
)
from orchestrator.asl.ports import request_from_dict

from conftest import raise_or_return

CONFORMANCE = Path(__file__).resolve().parents[2] / "fixtures" / "asl" / "conformance"

#: The fixed "now" of every run; wait targets are measured from it.
NOW = datetime(2026, 1, 1, 12, 0, 5, 250_000, tzinfo=UTC)
START = datetime(2026, 1, 1, 12, 0, 0, 192_000, tzinfo=UTC)
DEFAULT_INFO: dict[str, Any] = {
    "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:conformance:exec-1",
    "name": "exec-1",
    "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:conformance",
    "state_machine_name": "conformance",
    "start_time": START,
    "role_arn": "arn:aws:iam::123456789012:role/conformance",
}
#: DistributedMapRequest fields compared as subsets (the engine may add keys we don't pin).
SUBSET_FIELDS = frozenset({"reader", "batcher", "result_writer"})


def load_cases() -> list[Any]:
    """Every execution case, as pytest params with ``topic::name`` ids."""
    params = []
    for path in sorted(CONFORMANCE.glob("*.json")):
        if path.name.startswith("definitions_"):
            continue
        for case in json.loads(path.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{path.stem}::{case['name']}"))
    return params


class ConformanceClock:
    """Always ``NOW``; ``wait_until`` returns at once and records its target."""

    def __init__(self) -> None:
        self.waits: list[datetime] = []

    def now(self) -> datetime:
        return NOW

    def wait_until(self, state_name: str, until: datetime) -> None:
        self.waits.append(until)


class ScriptedTasks:
    """Answers each Task call with the next scripted answer for its resource.

    The script key is the Resource, else the ``FunctionName`` parameter (lambda:invoke),
    else the state name. A call with no answer left is recorded as a problem and fails
    the task with ``Conformance.UnexpectedCall`` so the test reports it clearly.
    """

    def __init__(self, script: Mapping[str, list[Any]]) -> None:
        self.script = {key: list(answers) for key, answers in script.items()}
        self.calls: list[dict[str, Any]] = []
        self.timeouts: list[list[int | None]] = []
        self.problems: list[str] = []

    def _key(self, request: TaskRequest) -> str:
        if request.resource in self.script:
            return request.resource
        params = request.parameters
        name = params.get("FunctionName") if isinstance(params, dict) else None
        if isinstance(name, str) and name in self.script:
            return name
        return request.state_name

    def invoke(self, request: TaskRequest) -> Any:
        self.calls.append(
            {"resource": request.resource, "parameters": request.parameters}
        )
        self.timeouts.append([request.timeout_seconds, request.heartbeat_seconds])
        answers = self.script.get(self._key(request))
        if not answers:
            self.problems.append(
                f"unexpected task call {request.resource} with {request.parameters!r}"
            )
            raise StatesError("Conformance.UnexpectedCall", request.resource)
        return raise_or_return(answers.pop(0))


class ScriptedMapRuns:
    """A MapRunner that records each request and answers results from a script."""

    def __init__(self, results: list[Any]) -> None:
        self.results = list(results)
        self.requests: list[DistributedMapRequest] = []
        self.problems: list[str] = []

    def start(self, request: DistributedMapRequest) -> str:
        self.requests.append(request)
        label = request.label or "auto"
        return f"arn:aws:states:us-east-1:123456789012:mapRun:conformance/{label}:{len(self.requests)}"

    def result(self, map_run_arn: str) -> Any:
        if not self.results:
            self.problems.append(f"unexpected Map Run result request for {map_run_arn}")
            raise StatesError("Conformance.UnexpectedCall", map_run_arn)
        answer = self.results.pop(0)
        if (
            isinstance(answer, dict)
            and "error" in answer
            and set(answer) <= {"error", "cause"}
        ):
            raise StatesError(answer["error"], answer.get("cause", ""))
        return answer


def strict_equal(actual: Any, expected: Any) -> bool:
    """JSON equality that tells bool from int and int from float (AWS prints them differently)."""
    if type(expected) is bool or type(actual) is bool:
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(strict_equal(actual[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(strict_equal(a, e) for a, e in zip(actual, expected))
        )
    return type(actual) is type(expected) and actual == expected


def subset_equal(actual: Any, expected: Any) -> bool:
    """Every key of ``expected`` is in ``actual`` with an equal value (recursively for dicts)."""
    if isinstance(expected, dict):
        return isinstance(actual, Mapping) and all(
            k in actual and subset_equal(actual[k], v) for k, v in expected.items()
        )
    return strict_equal(actual, expected)


def matches_pattern(
    actual: Any, pattern: Any, siblings: Mapping[str, Any] | None = None
) -> bool:
    """Shape check for results that depend on randomness."""
    if isinstance(pattern, str) and pattern.startswith("re:"):
        return isinstance(actual, str) and re.fullmatch(pattern[3:], actual) is not None
    if isinstance(pattern, dict) and set(pattern) == {"int_range"}:
        lo, hi = pattern["int_range"]
        return type(actual) is int and lo <= actual <= hi
    if isinstance(pattern, dict) and set(pattern) == {"same_as"}:
        return siblings is not None and strict_equal(
            actual, siblings.get(pattern["same_as"])
        )
    if isinstance(pattern, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == pattern.keys()
            and all(matches_pattern(actual[k], v, actual) for k, v in pattern.items())
        )
    if isinstance(pattern, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(pattern)
            and all(matches_pattern(a, p) for a, p in zip(actual, pattern))
        )
    return strict_equal(actual, pattern)


def _info(overrides: Mapping[str, Any]) -> ExecutionInfo:
    fields = dict(DEFAULT_INFO)
    for key, value in overrides.items():
        if key in ("start_time", "redrive_time") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        fields[key] = value
    return ExecutionInfo(**fields)


def _request_field(request: DistributedMapRequest, name: str) -> Any:
    if name == "reader" and request.reader is not None:
        return request.reader.to_asl()  # cases write the reader in its ASL shape
    return getattr(request, name)


def _check_events(events: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> None:
    """Each wanted entry matches the next not-yet-used event of its type (subset compare)."""
    used: set[int] = set()
    for entry in wanted:
        candidates = [
            i
            for i, event in enumerate(events)
            if event["type"] == entry["type"] and i not in used
        ]
        assert candidates, (
            f"no (further) {entry['type']} event in {[e['type'] for e in events]}"
        )
        index = candidates[0]
        used.add(index)
        assert subset_equal(events[index], entry), (
            f"{events[index]!r} does not contain {entry!r}"
        )


@dataclass
class Observed:
    """What one case run produced: the outcome plus everything the fake ports saw."""

    outcome: Any
    events: list[dict[str, Any]]
    task_calls: list[dict[str, Any]]
    task_timeouts: list[list[int | None]]
    waits: list[datetime]
    map_requests: list[DistributedMapRequest]
    problems: list[str] = field(default_factory=list)


def _run_directly(case: dict[str, Any]) -> Observed:
    """One run_execution call with ports that always answer at once."""
    machine = parse_definition(
        case["definition"], machine_type=case.get("machine_type", "STANDARD")
    )
    clock = ConformanceClock()
    tasks = ScriptedTasks(case.get("task_results", {}))
    map_runs = ScriptedMapRuns(case.get("map_results", []))
    ports = Ports(
        tasks=tasks, clock=clock, map_runner=map_runs, random=random.Random(0)
    )
    options = EngineOptions(**case["options"]) if "options" in case else None
    outcome = run_execution(
        machine, case["input"], _info(case.get("context", {})), ports, options=options
    )
    return Observed(
        outcome,
        list(outcome.events),
        tasks.calls,
        tasks.timeouts,
        clock.waits,
        map_runs.requests,
        tasks.problems + map_runs.problems,
    )


class SuspendingPorts:
    """Ports whose every live Task call, wait and Map Run result answers Pending.

    The test then answers the pending request on the checkpoint (from the case's script) and
    resumes, so each case also exercises the journal: replay, resolve/reject, JSON round-trip.
    """

    def __init__(self, case: dict[str, Any]) -> None:
        self.script = ScriptedTasks(case.get("task_results", {}))
        self.map_script = ScriptedMapRuns(case.get("map_results", []))
        self.waits: list[datetime] = []
        self.map_states: dict[str, str] = {}

    def invoke(self, request: TaskRequest) -> Any:
        raise Pending(request)

    def now(self) -> datetime:
        return NOW

    def wait_until(self, state_name: str, until: datetime) -> None:
        self.waits.append(until)
        raise Pending(WaitRequest(state_name, until))

    def start(self, request: DistributedMapRequest) -> str:
        arn = self.map_script.start(request)
        self.map_states[arn] = request.state_name
        return arn

    def result(self, map_run_arn: str) -> Any:
        raise Pending(MapRunResultRequest(self.map_states[map_run_arn], map_run_arn))

    def answer(self, checkpoint: Checkpoint, request: Any) -> None:
        """Resolve or reject the pending request with the scripted answer.

        With branch calls pending (Parallel, inline Map) the first one (lowest branch) is
        answered, so calls reach the script in the order of a sequential run.
        """
        key = next(iter(checkpoint.pending), None)
        if key is not None:
            request = request_from_dict(checkpoint.pending[key]["request"])
        try:
            if isinstance(request, TaskRequest):
                value = self.script.invoke(request)
            elif isinstance(request, MapRunResultRequest):
                value = self.map_script.result(request.map_run_arn)
            else:
                value = None
        except StatesError as failure:
            if key is not None:
                checkpoint.answer(key, error=failure.error, cause=failure.cause)
            else:
                checkpoint.reject(failure.error, failure.cause)
        else:
            if key is not None:
                checkpoint.answer(key, value)
            else:
                checkpoint.resolve(value)


def _run_with_suspensions(case: dict[str, Any]) -> Observed:
    """Run the case suspending at every port call, resuming from a JSON round-tripped checkpoint."""
    machine = parse_definition(
        case["definition"], machine_type=case.get("machine_type", "STANDARD")
    )
    fake = SuspendingPorts(case)
    options = EngineOptions(**case["options"]) if "options" in case else None
    info = _info(case.get("context", {}))
    events: list[dict[str, Any]] = []
    checkpoint: Checkpoint | None = None
    for _ in range(500):
        ports = Ports(tasks=fake, clock=fake, map_runner=fake, random=random.Random(0))
        outcome = run_execution(
            machine, case["input"], info, ports, options=options, checkpoint=checkpoint
        )
        events.extend(outcome.events)
        if not isinstance(outcome, Suspended):
            break
        checkpoint = Checkpoint.from_dict(
            json.loads(json.dumps(outcome.checkpoint.to_dict()))
        )
        fake.answer(checkpoint, outcome.request)
    else:
        pytest.fail("the execution never finished")
    return Observed(
        outcome,
        events,
        fake.script.calls,
        fake.script.timeouts,
        fake.waits,
        fake.map_script.requests,
        fake.script.problems + fake.map_script.problems,
    )


def _check(case: dict[str, Any], seen: Observed) -> None:
    """Compare what a run produced with the case's expectations."""
    outcome = seen.outcome
    assert not seen.problems, seen.problems
    expected = case["expected"]
    if "output" in expected or "output_pattern" in expected:
        assert isinstance(outcome, Succeeded), (
            f"expected success, got {type(outcome).__name__}: "
            f"{getattr(outcome, 'error', '')} {getattr(outcome, 'cause', '')}"
        )
        if "output" in expected:
            assert strict_equal(outcome.output, expected["output"]), (
                f"output {json.dumps(outcome.output)} != expected {json.dumps(expected['output'])}"
            )
        else:
            assert matches_pattern(outcome.output, expected["output_pattern"]), (
                outcome.output
            )
    else:
        assert isinstance(outcome, Failed), (
            f"expected failure {expected.get('error')}, got {type(outcome).__name__}: "
            f"{json.dumps(getattr(outcome, 'output', None))}"
        )
        if "error" in expected:
            assert outcome.error == expected["error"], (
                f"error {outcome.error!r} (cause {outcome.cause!r})"
            )
        if "cause" in expected:
            assert outcome.cause == expected["cause"]

    if "expected_task_calls" in case:
        assert strict_equal(seen.task_calls, case["expected_task_calls"]), (
            seen.task_calls
        )
    if "expected_task_timeouts" in case:
        assert seen.task_timeouts == case["expected_task_timeouts"]
    waited = [(until - NOW).total_seconds() for until in seen.waits]
    if "expected_wait_seconds" in case:
        assert waited == [float(s) for s in case["expected_wait_seconds"]]
    if "expected_wait_until" in case:
        assert seen.waits == [
            datetime.fromisoformat(t) for t in case["expected_wait_until"]
        ]
    if "expected_wait_max_seconds" in case:
        limits = case["expected_wait_max_seconds"]
        assert len(waited) == len(limits)
        assert all(0 <= w <= m for w, m in zip(waited, limits)), waited
    if "expected_event_types" in case:
        assert [event["type"] for event in seen.events] == case["expected_event_types"]
    if "expected_events" in case:
        _check_events(seen.events, case["expected_events"])
    if "expected_map_requests" in case:
        wanted_requests = case["expected_map_requests"]
        assert len(seen.map_requests) == len(wanted_requests)
        for request, wanted in zip(seen.map_requests, wanted_requests):
            for name, value in wanted.items():
                actual = _request_field(request, name)
                check = subset_equal if name in SUBSET_FIELDS else strict_equal
                assert check(actual, value), f"{name}: {actual!r} != {value!r}"


@pytest.mark.parametrize("case", load_cases())
def test_execution_matches_aws(case: dict[str, Any]) -> None:
    """The engine produces exactly what AWS documents (or was observed) for this case."""
    _check(case, _run_directly(case))


@pytest.mark.parametrize("case", load_cases())
def test_execution_matches_aws_across_suspensions(case: dict[str, Any]) -> None:
    """Same result when every Task, wait and Map Run answers later (suspend, round-trip, resume)."""
    seen = _run_with_suspensions(case)
    _check(case, seen)
    ids = [event["id"] for event in seen.events]
    assert ids == list(range(1, len(ids) + 1)), ids


def test_conformance_suite_is_large_and_sourced() -> None:
    """Every case names its source; the suite covers each topic."""
    cases = [p.values[0] for p in load_cases()]
    assert len(cases) >= 250
    assert all(c.get("source") for c in cases)
    topics = {p.id.split("::")[0] for p in load_cases()}
    assert {
        "paths",
        "result_path",
        "parameters",
        "intrinsics",
        "choice",
        "retry_catch",
    } <= topics

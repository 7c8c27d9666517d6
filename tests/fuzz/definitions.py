"""Malformed definitions from mutating the valid fixtures, and the engine run of accepted ones.

Sources: ``tests/fixtures/asl/valid/*.json`` and the definitions of ``run/*.json``. Each
mutant applies one to three mutations (drop a member, malform a value, add an unknown field,
retarget a transition, change a state's type or resource, make a loop, add Distributed Map
configuration with wrong types). The server decides; a definition it accepts is run through
the engine with fake ports (no I/O, an instant clock) and a step budget (the history-event
limit), and must end SUCCEEDED or FAILED: never an exception, never suspended.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestrator.asl import (
    DistributedMapRequest,
    EngineOptions,
    ExecutionInfo,
    Failed,
    Ports,
    StatesError,
    Succeeded,
    TaskRequest,
    parse_definition,
    run_execution,
)
from tests.fuzz.values import nasty

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asl"
#: Step budget: an accepted definition must end within this many history events.
STEP_BUDGET = 2_000
_TYPES = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Bogus"]
_RESOURCES = [
    "arn:aws:states:::lambda:invoke", "arn:aws:lambda:us-east-1:123456789012:function:f",
    "arn:aws:states:::lambda:invoke.waitForTaskToken", "arn:aws:states:::sqs:sendMessage",
    "arn:aws:states:::states:startExecution.sync:2", "arn:aws:states:::test:x", "", 7,
]
_MAP_EXTRAS = [
    ("ItemReader", {"Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket": 5, "Key": ["k"]},
                    "ReaderConfig": {"InputType": "PARQUET", "MaxItems": -1}}),
    ("ItemReader", {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {}}),
    ("ResultWriter", {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Prefix": 1}}),
    ("ResultWriter", {"Resource": "arn:aws:states:::s3:putObject",
                      "Parameters": {"Bucket": "b"}, "WriterConfig": {"OutputType": 3}}),
    ("ItemBatcher", {"MaxItemsPerBatch": "10", "BatchInput": []}),
    ("ItemBatcher", {"MaxInputBytesPerBatch": 10**12}),
]


def sources() -> list[tuple[dict[str, Any], Any]]:
    """(definition, input) of every valid and runnable fixture."""
    out: list[tuple[dict[str, Any], Any]] = []
    for path in sorted((FIXTURES / "valid").glob("*.json")):
        out.append((json.loads(path.read_text(encoding="utf-8")), {}))
    for path in sorted((FIXTURES / "run").glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(case.get("definition"), dict):
            out.append((case["definition"], case.get("input", {})))
    return out


def _containers(node: Any, depth: int = 0) -> Iterator[Any]:
    """Every dict and list inside ``node`` (bounded depth)."""
    if depth > 12:
        return
    if isinstance(node, (dict, list)):
        yield node
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            yield from _containers(child, depth + 1)


def _states(node: Any) -> list[dict[str, Any]]:
    return [c for c in _containers(node) if isinstance(c, dict) and "Type" in c]


def _gentle(out: dict[str, Any], rng: random.Random) -> None:
    """A mutation that usually keeps the definition valid, so the engine gets to run it: a
    loop back to StartAt, odd but legal Result data, huge waits and retry counts."""
    states = _states(out)
    if not states:
        return
    state = rng.choice(states)
    kind = rng.randrange(4)
    if kind == 0 and state.get("Type") in ("Pass", "Task", "Wait") and "StartAt" in out:
        state["Next"] = out["StartAt"]
        state.pop("End", None)
    elif kind == 1 and state.get("Type") == "Pass":
        state["Result"] = rng.choice([None, 10**30, -0.0, "ü" * 50, [[[]]], {"$": "$.x"},
                                      "x" * 300_000, list(range(200))])
    elif kind == 2 and state.get("Type") == "Wait":
        for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"):
            state.pop(key, None)
        state["Seconds"] = rng.choice([0, 99_999_999])
    elif kind == 3 and state.get("Type") == "Task":
        state["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 99_999_999,
                           "IntervalSeconds": 99_999_999, "BackoffRate": 1.0}]


def mutate(definition: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy of ``definition`` with one to three mutations (a third of them gentle)."""
    out = copy.deepcopy(definition)
    if rng.random() < 0.35:
        _gentle(out, rng)
        return out
    for _ in range(rng.randint(1, 3)):
        containers = list(_containers(out))
        states = _states(out)
        kind = rng.randrange(8)
        if kind == 0:
            dicts = [c for c in containers if isinstance(c, dict) and c]
            target = rng.choice(dicts)
            del target[rng.choice(sorted(target))]
        elif kind == 1:
            target = rng.choice(containers)
            if isinstance(target, dict) and target:
                target[rng.choice(sorted(target))] = nasty(rng)
            elif isinstance(target, list) and target:
                target[rng.randrange(len(target))] = nasty(rng)
        elif kind == 2:
            dicts = [c for c in containers if isinstance(c, dict)]
            rng.choice(dicts)[rng.choice(["Unknown", "Next", "End", "Default", "Comment"])] = \
                nasty(rng)
        elif kind == 3 and states:
            state = rng.choice(states)
            state["Next"] = rng.choice(["Nowhere", out.get("StartAt", "A")])
            state.pop("End", None)
        elif kind == 4 and states:
            rng.choice(states)["Type"] = rng.choice(_TYPES)
        elif kind == 5 and states:
            state = rng.choice(states)
            state["Type"] = "Task"
            state["Resource"] = rng.choice(_RESOURCES)
        elif kind == 6:
            maps = [s for s in states if s.get("Type") == "Map"] or states
            if maps:
                key, value = rng.choice(_MAP_EXTRAS)
                rng.choice(maps)[key] = copy.deepcopy(value)
        else:
            out[rng.choice(["StartAt", "TimeoutSeconds", "QueryLanguage", "States"])] = nasty(rng)
    return out


class _Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def wait_until(self, state_name: str, until: datetime) -> None:
        self.current = max(self.current, until) + timedelta(milliseconds=1)


class _Tasks:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def invoke(self, request: TaskRequest) -> Any:
        if self.rng.random() < 0.3:
            raise StatesError(self.rng.choice(["States.TaskFailed", "App.Error", "States.Timeout"]),
                              "fuzz")
        return {"echo": request.parameters}


class _MapRuns:
    def __init__(self) -> None:
        self.started = 0

    def start(self, request: DistributedMapRequest) -> str:
        self.started += 1
        return f"arn:aws:states:us-east-1:123456789012:mapRun:sm/m:{self.started}"

    def result(self, map_run_arn: str) -> Any:
        return []


def run_to_the_end(definition: str, execution_input: Any, seed: int) -> str | None:
    """Run an accepted definition under the step budget; a problem description or ``None``."""
    rng = random.Random(seed)
    try:
        machine = parse_definition(definition)
        info = ExecutionInfo(
            execution_arn="arn:aws:states:us-east-1:123456789012:execution:sm:e", name="e",
            state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:sm",
            state_machine_name="sm", start_time=datetime(2026, 1, 1, tzinfo=UTC))
        ports = Ports(tasks=_Tasks(rng), clock=_Clock(), map_runner=_MapRuns(),
                      random=random.Random(seed))
        outcome = run_execution(machine, execution_input, info, ports,
                                options=EngineOptions(max_history_events=STEP_BUDGET))
    except Exception as exc:  # any escape is a finding
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    if not isinstance(outcome, (Succeeded, Failed)):
        return f"not terminal: {type(outcome).__name__}"
    return None

"""Table-driven behaviour tests: each tests/fixtures/asl/run/<behaviour>.json is one case.

A case holds ``definition``, ``input``, ``expected`` (``{"output": ...}`` or
``{"error": ..., "cause": ...}``) and optionally ``tasks`` (answers per resource, see
FakeInvoker), ``events`` (expected event types in order), ``waits`` (clock waits as seconds
after T0), ``task_calls`` (parameters each Task received), ``options`` (EngineOptions),
``map_fail`` ([error, cause] every Map Run fails with) and ``map_requests`` (fields of the
DistributedMapRequest the runner received).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FIXTURES, FakeClock, FakeInvoker, FakeMapRunner, execution_info

from orchestrator.asl import (
    EngineOptions,
    Failed,
    ItemReaderRequest,
    Ports,
    Succeeded,
    parse_definition,
    run_execution,
)

CASES = sorted(p.stem for p in (FIXTURES / "run").glob("*.json"))


def run_case(case: dict[str, Any]) -> tuple[Any, FakeClock, FakeInvoker, FakeMapRunner]:
    machine = parse_definition(case["definition"])
    tasks = FakeInvoker(case.get("tasks"))
    clock = FakeClock()
    fail = case.get("map_fail")
    runner = FakeMapRunner(tasks, fail=(fail[0], fail[1]) if fail else None)
    options = EngineOptions(**case.get("options", {}))
    ports = Ports(tasks=tasks, clock=clock, map_runner=runner, random=random.Random(7))
    outcome = run_execution(
        machine, case.get("input"), execution_info(), ports, options=options
    )
    return outcome, clock, tasks, runner


@pytest.mark.parametrize("name", CASES)
def test_behaviour_matches_fixture(
    name: str, load_fixture: Callable[[str], Any]
) -> None:
    case = load_fixture(f"run/{name}")
    outcome, clock, tasks, runner = run_case(case)
    expected = case["expected"]
    if "output" in expected:
        assert isinstance(outcome, Succeeded), outcome
        assert outcome.output == expected["output"]
    else:
        assert isinstance(outcome, Failed), outcome
        assert (outcome.error, outcome.cause) == (expected["error"], expected["cause"])
    if "events" in case:
        assert [event["type"] for event in outcome.events] == case["events"]
    if "waits" in case:
        assert clock.waited_seconds() == case["waits"]
    if "task_calls" in case:
        assert [call.parameters for call in tasks.calls] == case["task_calls"]
    for index, fields in enumerate(case.get("map_requests", [])):
        request = runner.requests[index]
        wanted = dict(fields)
        if wanted.get("reader") is not None:
            # Fixtures write the reader in its ASL shape; the request carries it typed.
            wanted["reader"] = ItemReaderRequest.of_asl(wanted["reader"])
        assert {key: getattr(request, key) for key in wanted} == wanted


def test_every_fixture_has_an_expectation(load_fixture: Callable[[str], Any]) -> None:
    for name in CASES:
        expected = load_fixture(f"run/{name}")["expected"]
        assert "output" in expected or {"error", "cause"} <= set(expected), name

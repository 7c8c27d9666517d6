"""Micro-benchmark of the engine: runs/s of a three-state child workflow on one core.

The child is Pass (Parameters) -> Choice -> Pass (ResultPath), the shape of a typical
Distributed Map item processor. It runs with history off (EXPRESS children) and on.
Then items/s of a Distributed Map's ItemSelector as the feeder evaluates it (one context
copy per item), in JSONPath and in JSONata.
Run: ``python -m bench.engine [--seconds 2]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from orchestrator.asl import (
    EngineOptions,
    ExecutionInfo,
    Ports,
    Succeeded,
    TaskRequest,
    compile_item_selector,
    parse_definition,
    run_execution,
)

CHILD = {
    "StartAt": "Shape",
    "States": {
        "Shape": {
            "Type": "Pass",
            "Parameters": {"id.$": "$.id", "amount.$": "$.amount", "kind": "order"},
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Big"}
            ],
            "Default": "Small",
        },
        "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
        "Small": {
            "Type": "Pass",
            "Result": "small",
            "ResultPath": "$.size",
            "End": True,
        },
    },
}


class _NoTasks:
    def invoke(self, request: TaskRequest) -> Any:
        raise AssertionError("the benchmark child has no Task state")


class _Clock:
    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def wait_until(self, state_name: str, until: datetime) -> None:
        self._now = until


def measure(history: bool, seconds: float) -> float:
    """Runs per second of the child with history on or off."""
    machine = parse_definition(CHILD, machine_type="EXPRESS")
    info = ExecutionInfo(
        execution_arn="arn:aws:states:us-east-1:123456789012:express:child:item-0",
        name="item-0",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:child",
        state_machine_name="child",
        start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    ports = Ports(tasks=_NoTasks(), clock=_Clock())
    options = EngineOptions(history=history)
    inputs = [{"id": i, "amount": i % 200, "note": "x" * 20} for i in range(1000)]
    outcome = run_execution(machine, inputs[150], info, ports, options=options)
    assert isinstance(outcome, Succeeded) and outcome.output["size"] == "big", outcome
    runs = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for item in inputs:
            run_execution(machine, item, info, ports, options=options)
        runs += len(inputs)
        now = time.perf_counter()
        if now >= deadline:
            return runs / (now - start)


#: The same selection in both query languages: two item fields, the index, a constant.
SELECTORS = {
    "JSONPath": {"id.$": "$$.Map.Item.Value.id", "amount.$": "$$.Map.Item.Value.amount",
                 "index.$": "$$.Map.Item.Index", "kind": "order"},
    "JSONata": {"id": "{% $states.context.Map.Item.Value.id %}",
                "amount": "{% $states.context.Map.Item.Value.amount %}",
                "index": "{% $states.context.Map.Item.Index %}", "kind": "order"},
}


def measure_selector(language: str, seconds: float) -> float:
    """Items per second through a Distributed Map ItemSelector, as the feeder runs it."""
    selector = compile_item_selector(SELECTORS[language], language)
    base_context: dict[str, Any] = {"Execution": {"Id": "arn:execution", "Name": "e"},
                    "StateMachine": {"Id": "arn:sm", "Name": "sm"}}
    effective_input = {"bucket": "b", "prefix": "p"}
    items = [{"id": i, "amount": i % 200, "note": "x" * 20} for i in range(1000)]
    expected = {"id": 5, "amount": 5, "index": 5, "kind": "order"}
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for index, value in enumerate(items):
            item_ctx = dict(base_context)
            item_ctx["Map"] = {"Item": {"Index": index, "Value": value, "Source": "STATE_DATA"}}
            out = selector.evaluate(effective_input, item_ctx)
        assert selector.evaluate(effective_input, {"Map": {"Item": {
            "Index": 5, "Value": items[5]}}}) == expected, out
        count += len(items)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    """Print runs/s with history off and on."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="time per measurement"
    )
    args = parser.parse_args()
    off = measure(False, args.seconds)
    on = measure(True, args.seconds)
    print(f"history off: {off:,.0f} runs/s  (target >= 20,000)")
    print(f"history on:  {on:,.0f} runs/s")
    for language in SELECTORS:
        rate = measure_selector(language, args.seconds)
        print(f"item selector {language}: {rate:,.0f} items/s")


if __name__ == "__main__":
    main()

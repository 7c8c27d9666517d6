"""The worker's Task invoker with concurrent branches: its thread pool and thread-safe timeouts.

Handlers are registered in-process; overlap is proven by a barrier that only opens when all
the Tasks of a Parallel (or inline Map) are in flight together.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.asl import (
    ExecutionInfo,
    Failed,
    Ports,
    StatesError,
    Succeeded,
    TaskRequest,
    parse_definition,
    run_execution,
)
from workers.handlers.registry import HandlerContext, handler
from workers.invoker import WorkerTaskInvoker

_BARRIERS: dict[str, threading.Barrier] = {}
_RELEASE = threading.Event()


@handler("unit-barrier")
def _barrier(event: Any, context: HandlerContext) -> Any:
    """Passes only when ``parties`` calls of the same group wait together."""
    barrier = _BARRIERS[event["group"]]
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError("not concurrent") from None
    return {"item": event.get("item"), "thread": threading.current_thread().name}


@handler("unit-stuck")
def _stuck(event: Any, context: HandlerContext) -> Any:
    """Blocks until the test releases it (or 30 s)."""
    _RELEASE.wait(30)
    return "late"


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, state_name: str, until: datetime) -> None:
        raise AssertionError("waits go to the pool inside branches")


def _info() -> ExecutionInfo:
    return ExecutionInfo(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:sm:x",
        name="x", state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        state_machine_name="sm", start_time=datetime.now(UTC),
    )


def _run(definition: dict[str, Any], data: Any) -> Any:
    ports = Ports(tasks=WorkerTaskInvoker(), clock=RealClock())
    return run_execution(parse_definition(definition), data, _info(), ports)


def _call(group: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "unit-barrier",
                       "Payload": {"group": group, "item.$": "$"}},
        "OutputPath": "$.Payload", "End": True, **extra,
    }


def test_parallel_branches_run_their_handlers_at_once() -> None:
    _BARRIERS["p3"] = threading.Barrier(3, timeout=20)
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": True,
        "Branches": [{"StartAt": f"T{i}", "States": {f"T{i}": _call("p3")}} for i in range(3)],
    }}}
    outcome = _run(definition, 7)
    assert isinstance(outcome, Succeeded), outcome
    assert [r["item"] for r in outcome.output] == [7, 7, 7]
    assert len({r["thread"] for r in outcome.output}) == 3


def test_inline_map_runs_five_handlers_at_once_and_waits_in_branches_go_to_the_pool() -> None:
    _BARRIERS["m5"] = threading.Barrier(5, timeout=20)
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 5, "End": True,
        "ItemProcessor": {"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 1, "Next": "T"},
            "T": _call("m5"),
        }},
    }}}
    outcome = _run(definition, [1, 2, 3, 4, 5])
    assert isinstance(outcome, Succeeded), outcome
    assert [r["item"] for r in outcome.output] == [1, 2, 3, 4, 5]


def test_timeout_is_enforced_outside_the_main_thread() -> None:
    _RELEASE.clear()
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": True,
        "Branches": [{"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "unit-stuck", "Payload": {}},
            "TimeoutSeconds": 1, "End": True}}}],
    }}}
    try:
        outcome = _run(definition, {})
    finally:
        _RELEASE.set()
    assert isinstance(outcome, Failed)
    assert outcome.error == "States.Timeout"


def test_invoke_from_a_plain_thread_times_out_with_states_timeout() -> None:
    _RELEASE.clear()
    seen: list[BaseException] = []
    request = TaskRequest(state_name="T", resource="arn:aws:states:::lambda:invoke",
                          parameters={"FunctionName": "unit-stuck", "Payload": {}},
                          timeout_seconds=1)

    def target() -> None:
        try:
            WorkerTaskInvoker().invoke(request)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            seen.append(exc)

    worker = threading.Thread(target=target)
    worker.start()
    worker.join(30)
    _RELEASE.set()
    assert len(seen) == 1 and isinstance(seen[0], StatesError)
    assert seen[0].error == "States.Timeout"


@pytest.mark.parametrize("parties", [2])
def test_failed_branch_abandons_the_other_and_fails_the_parallel(parties: int) -> None:
    _BARRIERS["lonely"] = threading.Barrier(parties, timeout=20)
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": True,
        "Branches": [
            {"StartAt": "Bad", "States": {"Bad": {
                "Type": "Fail", "Error": "Custom", "Cause": "no"}}},
            {"StartAt": "T", "States": {"T": _call("lonely")}},
        ],
    }}}
    outcome = _run(definition, {})
    assert isinstance(outcome, Failed) and outcome.error == "Custom"
    _BARRIERS["lonely"].abort()

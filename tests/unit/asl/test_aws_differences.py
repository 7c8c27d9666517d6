"""Behaviours observed on AWS that its documentation does not spell out (issue 10, part 3)."""

from __future__ import annotations

from typing import Any

from conftest import FakeClock, FakeInvoker, execution_info

from orchestrator.asl import EngineOptions, Failed, Ports, Succeeded, parse_definition, run_execution


def _run(definition: dict[str, Any], data: Any = None) -> Any:
    ports = Ports(tasks=FakeInvoker(), clock=FakeClock())
    return run_execution(parse_definition(definition), data, execution_info(), ports,
                         options=EngineOptions(history=True))


def test_fail_without_error_and_cause_leaves_them_out() -> None:
    outcome = _run({"StartAt": "F", "States": {"F": {"Type": "Fail"}}})

    assert isinstance(outcome, Failed)
    last = outcome.events[-1]
    assert last["type"] == "ExecutionFailed"
    assert last["executionFailedEventDetails"] == {}


def test_caught_fail_without_error_and_cause_gives_an_empty_error_output() -> None:
    outcome = _run({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail"}}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}], "End": True},
        "D": {"Type": "Succeed"}}})

    assert isinstance(outcome, Succeeded)
    assert outcome.output == {}


def test_jsonpath_keys_holding_a_backslash_are_found() -> None:
    # Observed on AWS: a key with a backslash is found in dot and bracket notation; inside
    # quotes a backslash escapes only the quote or itself.
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "dot.$": "$.a\\b", "bracket.$": "$['a\\b']", "escaped.$": "$['a\\\\b']",
        "quote.$": "$['q\\'']"}, "End": True}}}
    outcome = _run(definition, {"a\\b": 1, "q'": 2})

    assert isinstance(outcome, Succeeded)
    assert outcome.output == {"dot": 1, "bracket": 1, "escaped": 1, "quote": 2}

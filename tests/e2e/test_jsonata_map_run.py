"""A JSONata Distributed Map through the REST API, with real workers (issue 10)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from e2e_support import E2E, make_stack


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=4)


def test_jsonata_distributed_map_with_jsonata_item_selector(e2e: E2E) -> None:
    ns = e2e.unique("jsonata")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Assign": {"factor": "{% $states.input.factor %}"},
                        "Output": "{% $states.input.rows %}", "Next": "Map"},
            "Map": {
                "Type": "Map",
                "MaxConcurrency": "{% 2 + 2 %}",
                "ItemSelector": {
                    "probe": ns,
                    "id": "{% $states.context.Map.Item.Value.id %}",
                    "index": "{% $states.context.Map.Item.Index %}",
                    "sleep": 0,
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Work",
                    "States": {"Work": {
                        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Arguments": {"FunctionName": "probe-gauge",
                                      "Payload": "{% $states.input %}"},
                        "Output": "{% $states.result.Payload %}", "End": True}},
                },
                "Assign": {"total": "{% $sum($states.result.out) %}"},
                "Output": {"outs": "{% $states.result.out %}",
                           "scaled": "{% $map($states.result.out, function($o) { $o * $factor }) %}"},
                "Next": "Done",
            },
            "Done": {"Type": "Pass", "Output": {"outs": "{% $states.input.outs %}",
                                                "scaled": "{% $states.input.scaled %}",
                                                "total": "{% $total %}"}, "End": True},
        },
    }
    rows = [{"id": i} for i in range(12)]
    described = e2e.run(json.dumps(definition), {"factor": 2, "rows": rows})

    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    outs = [i * 10 for i in range(12)]
    assert json.loads(described["output"]) == {
        "outs": outs, "scaled": [o * 2 for o in outs], "total": sum(outs)}
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["itemCounts"]["succeeded"] == run["itemCounts"]["total"] == 12
    assert run["maxConcurrency"] == 4


def test_jsonata_item_selector_reads_parent_variables_and_items(e2e: E2E) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"tag": "{% $states.input.tag %}"}, "Next": "Map"},
            "Map": {
                "Type": "Map",
                "Items": "{% $states.input.xs %}",
                "ItemSelector": {"x": "{% $states.context.Map.Item.Value %}", "tag": "{% $tag %}"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Echo",
                    "States": {"Echo": {"Type": "Pass", "Output": "{% $states.input.tag & $states.input.x %}",
                                        "End": True}},
                },
                "End": True,
            },
        },
    }
    described = e2e.run(json.dumps(definition), {"tag": "t", "xs": [1, 2, 3]})

    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert json.loads(described["output"]) == ["t1", "t2", "t3"]


def _pass_machine(expression: str) -> str:
    return json.dumps({"QueryLanguage": "JSONata", "StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "Output": {"value": "{% " + expression + " %}"},
                  "End": True}}})


def test_a_jsonata_syntax_error_is_refused_at_create_under_many_concurrent_requests(
        e2e: E2E) -> None:
    # Regression (issue 10): a JSONata expression that does not parse was accepted by
    # CreateStateMachine and failed only at run time (States.QueryEvaluationError), since the
    # API's request threads could not compile it safely. Many requests at once, from many
    # threads of the API process, good and bad mixed; the API process must keep serving.
    from concurrent.futures import ThreadPoolExecutor

    bad = ["$states.input.x +", "$sum(", "{'a': }", "1 +* 2", "$states.input[", "(("]
    good = ["$states.input.x + 1", "$sum([1, 2])", "{'a': 1}", "$uppercase('a')"]

    def attempt(i: int) -> tuple[str, str, str]:
        expression = (bad + good)[i % len(bad + good)]
        if i % 2:
            verdict = e2e.sfn.validate_state_machine_definition(
                definition=_pass_machine(expression))
            return expression, verdict["result"], json.dumps(verdict.get("diagnostics", []))
        try:
            e2e.create_machine(_pass_machine(expression), name=e2e.unique(f"jsonata{i}"))
        except e2e.sfn.exceptions.InvalidDefinition as exc:
            return expression, "FAIL", str(exc)
        return expression, "OK", ""

    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(attempt, range(200)))

    assert e2e.stack.dead() == []
    for expression, result, detail in verdicts:
        if expression in bad:
            assert result == "FAIL", (expression, detail)
            assert "Invalid JSONata expression in field 'Output'" in detail, detail
            assert "/States/Shape/Output" in detail, detail
        else:
            assert result == "OK", (expression, detail)
    # and it still runs what it accepted
    described = e2e.run(_pass_machine("$states.input.x + 1"), {"x": 41})
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"value": 42})

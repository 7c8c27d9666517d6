"""JSONata values (spec 5.6, AWS guide "Transforming data with JSONata in Step Functions")."""

from __future__ import annotations

import random
from typing import Any

import pytest
from conftest import FakeClock, FakeInvoker, execution_info

from orchestrator.asl import (
    Failed,
    InvalidDefinition,
    Ports,
    QueryEvaluationError,
    Succeeded,
    compile_item_selector,
    parse_definition,
    run_execution,
)
from orchestrator.asl._jsonata import compile_jsonata, resolve_number
from orchestrator.asl._paths import VARIABLES_KEY


def test_strings_without_delimiters_are_literal() -> None:
    template = compile_jsonata({"a": "$x", "b": " {% 1 %}", "c": ["{%", 2]}, "Arguments")
    assert template.is_static
    assert template.evaluate({}) == {"a": "$x", "b": " {% 1 %}", "c": ["{%", 2]}


def test_expressions_at_any_depth_read_states_and_variables() -> None:
    template = compile_jsonata(
        {"a": "{% $states.input.n + 1 %}", "b": ["{% $v %}", {"c": "{% $states.input.s %}"}]},
        "Arguments",
    )
    ctx = {VARIABLES_KEY: {"v": [1, 2]}, "State": {"Name": "S"}}
    assert template.evaluate({"n": 1, "s": "x"}, ctx) == {"a": 2, "b": [[1, 2], {"c": "x"}]}


def test_context_part_hides_private_keys() -> None:
    template = compile_jsonata("{% $keys($states.context) %}", "Output")
    assert template.evaluate({}, {"State": {}, VARIABLES_KEY: {}}) == "State"


def test_combined_object_gives_the_same_value_as_each_expression() -> None:
    raw = {"a": "{% $states.input.n %}", "b": {"c": "{% $states.input.n * 2 %}", "d": [1, "x"]},
           "e": None, "f": "{% null %}"}
    template = compile_jsonata(raw, "ItemSelector")
    assert template.evaluate({"n": 3}) == {"a": 3, "b": {"c": 6, "d": [1, "x"]}, "e": None,
                                           "f": None}


def test_undefined_inside_an_object_names_the_expression() -> None:
    template = compile_jsonata({"a": "{% 1 %}", "b": "{% $states.input.gone %}"}, "Output")
    with pytest.raises(QueryEvaluationError) as info:
        template.evaluate({})
    assert info.value.cause == (
        "The JSONata expression '$states.input.gone' specified for the field 'Output' "
        "returned nothing (undefined)."
    )


def test_error_inside_an_object_names_the_expression() -> None:
    template = compile_jsonata({"a": "{% 1 %}", "b": "{% 'x' - 1 %}"}, "Arguments")
    with pytest.raises(QueryEvaluationError) as info:
        template.evaluate({})
    assert info.value.error == "States.QueryEvaluationError"
    assert info.value.cause.startswith(
        "An error occurred while evaluating the JSONata expression ''x' - 1' specified for "
        "the field 'Arguments': "
    )


def test_syntax_error_is_an_invalid_definition() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P",
                  "States": {"P": {"Type": "Pass", "Output": "{% $states.input. %}", "End": True}}}
    with pytest.raises(InvalidDefinition) as info:
        parse_definition(definition)
    assert info.value.problems[0].path == "/States/P/Output"


@pytest.mark.parametrize(
    ("raw", "kwargs", "expected"),
    [(5, {}, 5), ("{% 2.0 %}", {}, 2), ("{% 12.5 %}", {"integer": False, "high": 100}, 12.5)],
)
def test_numeric_fields_take_literals_or_expressions(raw: Any, kwargs: Any, expected: Any) -> None:
    value = compile_jsonata(raw, "MaxConcurrency") if isinstance(raw, str) else raw
    assert resolve_number(value, {}, None, **kwargs) == expected


def test_numeric_expression_out_of_range() -> None:
    value = compile_jsonata("{% -1 %}", "MaxConcurrency")
    with pytest.raises(QueryEvaluationError, match="out of range"):
        resolve_number(value, {}, None)


def test_item_selector_compiles_for_either_query_language() -> None:
    ctx = {"Map": {"Item": {"Index": 2, "Value": {"id": 7}}}}
    jsonpath = compile_item_selector({"id.$": "$$.Map.Item.Value.id", "k.$": "$.k"})
    jsonata = compile_item_selector(
        {"id": "{% $states.context.Map.Item.Value.id %}", "k": "{% $states.input.k %}"},
        "JSONata",
    )
    assert jsonpath.evaluate({"k": 1}, ctx) == jsonata.evaluate({"k": 1}, ctx) == {"id": 7, "k": 1}


def _run(definition: dict[str, Any], seed: int) -> Any:
    ports = Ports(tasks=FakeInvoker(), clock=FakeClock(), random=random.Random(seed))
    return run_execution(parse_definition(definition), {}, execution_info(), ports)


def test_uuid_and_random_draw_from_the_execution_random_source() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": {"u": "{% $uuid() %}", "r": "{% $random() %}"}, "End": True}}}
    first, again, other = _run(definition, 1), _run(definition, 1), _run(definition, 2)
    assert isinstance(first, Succeeded) and isinstance(other, Succeeded)
    assert first.output == again.output != other.output
    assert first.output["u"][14] == "4" and 0 <= first.output["r"] < 1


def test_hash_rejects_an_unknown_algorithm() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": "{% $hash('a', 'SHA-2') %}", "End": True}}}
    outcome = _run(definition, 1)
    assert isinstance(outcome, Failed) and outcome.error == "States.QueryEvaluationError"
    assert "MD5, SHA-1, SHA-256, SHA-384, SHA-512" in outcome.cause


def _problems(state: dict[str, Any]) -> list[tuple[str, str]]:
    from orchestrator.asl import validate_definition

    definition = {"QueryLanguage": "JSONata", "StartAt": "S",
                  "States": {"S": state, "N": {"Type": "Succeed"}}}
    return [(p.path, p.message) for p in validate_definition(definition)]


def test_states_result_only_in_output_and_assign_of_task_parallel_map() -> None:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "N",
            "Arguments": {"x": "{% $states.result %}"},
            "Output": "{% $states.result %}", "Assign": {"r": "{% $states.result.a %}"}}
    assert _problems(task) == [(
        "/States/S/Arguments/x",
        "Field 'Arguments' of state 'S' uses '$states.result', which is not available in this "
        "field")]
    assert [p for p, _ in _problems({"Type": "Pass", "Output": "{% $states.result %}",
                                     "Next": "N"})] == ["/States/S/Output"]


def test_states_error_output_only_in_a_catcher() -> None:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "N",
            "Output": "{% $states.errorOutput %}",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "N",
                       "Output": "{% $states.errorOutput %}",
                       "Assign": {"e": "{% $states.result %}"}}]}
    assert [p for p, _ in _problems(task)] == ["/States/S/Output", "/States/S/Catch/0/Assign/e"]


def test_now_and_millis_are_the_state_entry_time() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": {"now": "{% $now() %}", "millis": "{% $millis() %}",
                                   "entered": "{% $states.context.State.EnteredTime %}"},
        "End": True}}}
    outcome = _run(definition, 1)
    assert isinstance(outcome, Succeeded)
    out = outcome.output
    assert out["now"].startswith(out["entered"].rstrip("Z")) and out["now"].endswith("Z")
    from orchestrator.asl import parse_timestamp

    entered = parse_timestamp(out["entered"])
    assert entered is not None and out["millis"] == int(entered.timestamp() * 1000)


def test_distributed_item_selector_reads_the_parent_variables_it_names() -> None:
    from conftest import FakeMapRunner

    definition = {"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"tag": "t1", "unused": [1, 2]}, "Next": "M"},
        "M": {"Type": "Map", "Items": "{% [1, 2] %}",
              "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "tag": "{% $tag %}"},
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                                    "ExecutionType": "EXPRESS"},
                                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
              "End": True}}}
    runner = FakeMapRunner(FakeInvoker())
    ports = Ports(tasks=FakeInvoker(), clock=FakeClock(), map_runner=runner)
    outcome = run_execution(parse_definition(definition), {}, execution_info(), ports)
    assert isinstance(outcome, Succeeded)
    (request,) = runner.requests
    assert request.item_selector_variables == {"tag": "t1"}
    selector = compile_item_selector(request.item_selector, request.query_language,
                                     request.item_selector_variables)
    ctx = {"Map": {"Item": {"Index": 0, "Value": 1}}}
    assert selector.evaluate({}, ctx) == {"v": 1, "tag": "t1"}
    jsonpath = compile_item_selector({"tag.$": "$tag"}, "JSONPath", {"tag": "t2"})
    assert jsonpath.evaluate({}, ctx) == {"tag": "t2"}

"""Payload templates (spec 5.3): Parameters, ItemSelector, ResultSelector, ..."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.asl._template import TemplateError, compile_template
from orchestrator.asl.errors import RUNTIME, StatesError

INPUT: dict[str, Any] = {
    "x": 5,
    "name": "Arnav",
    "obj": {"k": [1, 2]},
    "items": [{"id": 1}, {"id": 2}],
    "odd key": "spaced",
}
CONTEXT: dict[str, Any] = {
    "Execution": {"Id": "arn:exec", "Input": {"x": 5}},
    "Map": {"Item": {"Index": 3, "Value": {"v": "item"}}},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ({"a.$": "$.x", "b": 1}, {"a": 5, "b": 1}),
        ({"whole.$": "$"}, {"whole": INPUT}),
        ({"nested": {"deep.$": "$.obj.k[1]"}}, {"nested": {"deep": 2}}),
        ({"list": [{"v.$": "$.name"}, 2, "x"]}, {"list": [{"v": "Arnav"}, 2, "x"]}),
        ({"ids.$": "$.items[*].id"}, {"ids": [1, 2]}),
        ({"none.$": "$.items[*].missing"}, {"none": []}),
        ({"odd.$": "$['odd key']"}, {"odd": "spaced"}),
        ({"idx.$": "$$.Map.Item.Index", "val.$": "$$.Map.Item.Value"},
         {"idx": 3, "val": {"v": "item"}}),
        ({"greeting.$": "States.Format('Hello, my name is {}.', $.name)"},
         {"greeting": "Hello, my name is Arnav."}),
        ({"literal": "$.not_a_path", "n": None, "t": True}, {"literal": "$.not_a_path", "n": None,
                                                            "t": True}),
        ({"keep.$.inner": 1}, {"keep.$.inner": 1}),
        ([{"a.$": "$.x"}, 1], [{"a": 5}, 1]),
        ("scalar", "scalar"),
        (7, 7),
    ],
)
def test_template_evaluates_to_the_expected_payload(template: Any, expected: Any) -> None:
    assert compile_template(template).evaluate(INPUT, CONTEXT) == expected


def test_template_keeps_the_key_order_of_the_definition() -> None:
    result = compile_template({"b": 1, "a.$": "$.x", "c": 2}).evaluate(INPUT)
    assert list(result) == ["b", "a", "c"]


def test_static_template_returns_the_shared_literal() -> None:
    raw = {"a": [1, {"b": 2}]}
    template = compile_template(raw)
    assert template.evaluate(INPUT) is raw
    assert template.evaluate({"other": 1}) is raw


def test_static_subtree_of_a_dynamic_template_is_shared() -> None:
    static = {"b": [1, 2]}
    result = compile_template({"s": static, "a.$": "$.x"}).evaluate(INPUT)
    assert result["s"] is static


def test_dynamic_template_builds_a_fresh_object_each_time() -> None:
    template = compile_template({"a.$": "$.x"})
    assert template.evaluate(INPUT) is not template.evaluate(INPUT)


@pytest.mark.parametrize(
    ("template", "uses_context"),
    [
        ({"a.$": "$.x"}, False),
        ({"a": {"b.$": "$$.Execution.Id"}}, True),
        ({"a": [{"b.$": "$$"}]}, True),
        ({"a.$": "States.Array($$.Map.Item.Index)"}, True),
        ({"a.$": "States.Array(States.Array($$.Map.Item.Index))"}, True),
        ({"a.$": "States.Array($.x)"}, False),
        ({"a": "$$.Execution.Id"}, False),
    ],
)
def test_template_reports_whether_it_reads_the_context(template: Any, uses_context: bool) -> None:
    assert compile_template(template).uses_context is uses_context


@pytest.mark.parametrize(
    ("template", "data", "cause"),
    [
        ({"k.$": "$.missing"}, {"x": 1},
         "The JSONPath '$.missing' specified for the field 'k.$' could not be found in the input "
         "'{\"x\":1}'"),
        ({"outer": {"k.$": "$.a.b"}}, {"a": {"c": "é"}},
         "The JSONPath '$.a.b' specified for the field 'k.$' could not be found in the input "
         "'{\"a\":{\"c\":\"é\"}}'"),
        ({"k.$": "$.l[4]"}, {"l": [1]},
         "The JSONPath '$.l[4]' specified for the field 'k.$' could not be found in the input "
         "'{\"l\":[1]}'"),
        ({"k.$": "States.Array($.nope)"}, {"x": 1},
         "The JSONPath '$.nope' specified for the field 'k.$' could not be found in the input "
         "'{\"x\":1}'"),
    ],
)
def test_missing_path_raises_runtime_with_aws_cause(template: Any, data: Any, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        compile_template(template).evaluate(data)
    assert info.value.error == RUNTIME
    assert info.value.cause == cause


def test_missing_context_path_shows_the_context_object() -> None:
    with pytest.raises(StatesError) as info:
        compile_template({"k.$": "$$.Map.Nope"}).evaluate(
            {}, {"Map": {}, "__random_source__": object()}
        )
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$$.Map.Nope' specified for the field 'k.$' could not be found in the "
        "input '{\"Map\":{}}'"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"k.$": 1}, "The value of field 'k.$' must be a path or an intrinsic function call"),
        ({"k.$": "x"}, "The value of field 'k.$' must be a path starting with '$'"),
        ({"k.$": "$.a[?("}, "Field 'k.$': '$.a[?(' is not a valid path"),
        ({"k.$": "States.Nope()"}, "Field 'k.$': unknown intrinsic function 'States.Nope'"),
        ({"a": 1, "a.$": "$.x"}, "produces the field 'a' twice"),
        ({"outer": [{"k.$": None}]}, "The value of field 'k.$' must be a path"),
    ],
)
def test_bad_template_raises_template_error_naming_the_key(template: Any, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        compile_template(template)
    assert message in str(info.value)

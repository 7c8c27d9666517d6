"""Intrinsic functions (spec 5.5): parsing, every function, argument errors."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from orchestrator.asl import validate_definition
from orchestrator.asl._intrinsics import (
    RANDOM_SOURCE_KEY,
    IntrinsicSyntaxError,
    compile_intrinsic,
    is_intrinsic,
)
from orchestrator.asl._paths import PathNotFound
from orchestrator.asl.errors import INTRINSIC_FAILURE, RUNTIME, StatesError

DATA: dict[str, Any] = {
    "name": "Arnav",
    "template": "Hello, my name is {}.",
    "n": 3,
    "f": 2.5,
    "arr": [1, 2, 3, 4, 5, 6, 7, 8, 9],
    "dups": [1, 2, 3, 3, 3, 3, 3, 3, 4],
    "obj": {"a": 1, "b": {"c": 2}},
    "obj2": {"b": {"d": 3}, "e": 4},
    "json": '{"foo": "bar"}',
    "csv": "1,2,3,4,5",
    "odd key": "odd",
    "empty": [],
}


def run(text: str, data: Any = None, context: Any = None) -> Any:
    return compile_intrinsic(text).evaluate(DATA if data is None else data, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # States.Format
        ("States.Format('Hello, my name is {}.', $.name)", "Hello, my name is Arnav."),
        ("States.Format($.template, $.name)", "Hello, my name is Arnav."),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format('{}{}', 'a', 'b')", "ab"),
        ("States.Format('{} {} {} {}', 1, 2.5, true, null)", "1 2.5 true null"),
        # Observed on AWS: an object renders Java-map style, e.g. {Arg1=1, Arg2=[]}.
        ("States.Format('{}|{}', $.arr[0:2], $.obj)", '[1,2]|{a=1, b={c=2}}'),
        ("States.Format('{}', States.StringToJson('{\"Arg1\":1,\"Arg2\":[]}'))",
         "{Arg1=1, Arg2=[]}"),
        ("States.Format('{}', States.StringToJson('{\"s\":\"x\",\"l\":[1,\"y\",null]}'))",
         "{s=x, l=[1, y, null]}"),
        # Observed on AWS: the empty string is null.
        ("States.StringToJson('')", None),
        (r"States.Format('\{\} {}', 'x')", "{} x"),
        (r"States.Format('it\'s {}', $.name)", "it's Arnav"),
        (r"States.Format('back\\slash {}', 1)", "back\\slash 1"),
        ("States.Format('{}', $['odd key'])", "odd"),
        ("States.Format('{}', $.n)", "3"),
        # JSON
        ("States.StringToJson($.json)", {"foo": "bar"}),
        ("States.StringToJson('[1, 2]')", [1, 2]),
        ("States.JsonToString($.obj)", '{"a":1,"b":{"c":2}}'),
        ("States.JsonToString('é')", '"é"'),
        ("States.JsonToString(States.StringToJson($.json))", '{"foo":"bar"}'),
        ("States.JsonMerge($.obj, $.obj2, false)", {"a": 1, "b": {"d": 3}, "e": 4}),
        # arrays
        ("States.Array()", []),
        ("States.Array($.n, 'x', 1.5, true, null, $.obj.a)", [3, "x", 1.5, True, None, 1]),
        ("States.Array(States.Array(1), States.Array())", [[1], []]),
        ("States.ArrayPartition($.arr, 4)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayPartition($.arr, 9)", [[1, 2, 3, 4, 5, 6, 7, 8, 9]]),
        ("States.ArrayPartition($.arr, 3.5)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayPartition($.empty, 2)", []),
        ("States.ArrayContains($.arr, 5)", True),
        ("States.ArrayContains($.arr, 5.0)", True),
        ("States.ArrayContains($.arr, '5')", False),
        ("States.ArrayContains(States.Array(true), 1)", False),
        ("States.ArrayContains(States.Array($.obj), $.obj)", True),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(1, 10, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(9, 1, -3)", [9, 6, 3]),
        ("States.ArrayRange(1, 0, 1)", []),
        ("States.ArrayRange(5, 5, 1)", [5]),
        ("States.ArrayRange(0.6, 2.4, 1)", [1, 2]),
        ("States.ArrayGetItem($.arr, 5)", 6),
        ("States.ArrayGetItem($.arr, 0)", 1),
        ("States.ArrayGetItem($.arr, 8.0)", 9),
        ("States.ArrayLength($.arr)", 9),
        ("States.ArrayLength($.empty)", 0),
        ("States.ArrayUnique($.dups)", [1, 2, 3, 4]),
        ("States.ArrayUnique(States.Array(1, 1.0, true, '1', null, null))", [1, True, "1", None]),
        ("States.ArrayUnique(States.Array($.obj, $.obj))", [{"a": 1, "b": {"c": 2}}]),
        # encoding and hashing
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Encode('héllo')", "aMOpbGxv"),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Base64Decode(States.Base64Encode($.name))", "Arnav"),
        ("States.Hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("States.Hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("States.Hash('input data', 'SHA-256')",
         "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        ("States.Hash('input data', 'SHA-384')",
         "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e"
         "9374a15562"),
        ("States.Hash('input data', 'SHA-512')",
         "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc"
         "50283731a533d30d425402d4f91316d871303aac4"),
        # math
        ("States.MathAdd(111, -1)", 110),
        ("States.MathAdd($.n, 2.5)", 6),
        ("States.MathAdd(-2.5, 0)", -2),
        ("States.MathAdd(2147483647, 2147483647)", 4294967294),
        ("States.MathRandom(1, 999, 1234)", 990),
        ("States.MathRandom(5, 6)", 5),
        # strings
        ("States.StringSplit($.csv, ',')", ["1", "2", "3", "4", "5"]),
        ("States.StringSplit('This.is+a,test=string', '.+,=')",
         ["This", "is", "a", "test", "string"]),
        ("States.StringSplit('a,,b,', ',')", ["a", "b"]),
        ("States.StringSplit('abc', '')", ["abc"]),
        ("States.StringSplit('', ',')", []),
        # nesting, whitespace, paths
        ("States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
         "'arn:aws:imagebuilder:us-east-1:1:image/recipe/1.0.0', '/'), 2), '.'), 0)", "1"),
        ("States.ArrayLength( $.arr )  ", 9),
        ("States.Array($.arr[1:3], $..c)", [[2, 3], [2]]),
        ("States.Array(-1, 1e2, 0.5)", [-1, 100.0, 0.5]),
        ("States.Array ( 1 , 2 )", [1, 2]),
        ("States.Format('{} and ({}), x', States.Format('<{}>', 1), 'p,q')", "<1> and (p,q), x"),
        ("States.Format('{}', States.Array('{}'))", '["{}"]'),
    ],
)
def test_intrinsic_returns_the_expected_value(text: str, expected: Any) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


def test_path_arguments_may_hold_commas_and_parentheses_in_brackets() -> None:
    data = {"a,b": 1, "c)d": 2, "x": {"y z": 3}}
    assert run("States.Array($['a,b'], $['c)d'], $.x['y z'])", data) == [1, 2, 3]


def test_array_range_allows_exactly_1000_items() -> None:
    assert run("States.ArrayRange(1, 1000, 1)") == list(range(1, 1001))


def test_math_random_with_a_seed_is_repeatable() -> None:
    values = {run("States.MathRandom(0, 1000000, 42)") for _ in range(3)}
    assert len(values) == 1


def test_uuid_and_math_random_use_the_random_source_from_the_context() -> None:
    context = {RANDOM_SOURCE_KEY: random.Random(7)}
    assert run("States.UUID()", context=context) == "6513270e-269e-4d37-b2a7-4de452e6b438"
    again = {RANDOM_SOURCE_KEY: random.Random(7)}
    assert run("States.UUID()", context=again) == "6513270e-269e-4d37-b2a7-4de452e6b438"
    seeded = {RANDOM_SOURCE_KEY: random.Random(1234)}
    assert run("States.MathRandom(1, 999)", context=seeded) == 990


def test_uuid_without_a_random_source_is_a_version_4_uuid() -> None:
    value = run("States.UUID()")
    assert len(value) == 36
    assert value[14] == "4"
    assert value[19] in "89ab"


def test_context_path_arguments_read_the_context() -> None:
    call = compile_intrinsic("States.Format('{}-{}', $$.Execution.Name, $.n)")
    assert call.uses_context is True
    assert call.evaluate(DATA, {"Execution": {"Name": "run1"}}) == "run1-3"


def test_intrinsic_without_context_paths_does_not_use_the_context() -> None:
    assert compile_intrinsic("States.Array($.n, States.Array(1))").uses_context is False


def test_missing_path_argument_raises_runtime_naming_the_field() -> None:
    call = compile_intrinsic("States.Array(States.Array($.missing))")
    with pytest.raises(StatesError) as info:
        call.evaluate({"x": 1}, field="CausePath")
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$.missing' specified for the field 'CausePath' could not be found in the "
        "input '{\"x\":1}'"
    )


def test_missing_path_cause_names_the_call_when_no_field_is_given() -> None:
    with pytest.raises(StatesError) as info:
        compile_intrinsic("States.Array($$.Nope)").evaluate({}, {"A": 1, RANDOM_SOURCE_KEY: 0})
    assert info.value.cause == (
        "The JSONPath '$$.Nope' specified for the field 'States.Array($$.Nope)' could not be "
        "found in the input '{\"A\":1}'"
    )


def test_evaluate_raw_lets_path_not_found_through() -> None:
    with pytest.raises(PathNotFound) as info:
        compile_intrinsic("States.Array($.missing)").evaluate_raw({})
    assert info.value.path == "$.missing"


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("States.Format('{} {}', 1)",
         "States.Format: the template has 2 placeholder(s) '{}' but 1 argument(s) follow it"),
        ("States.Format('{}', 1, 2)",
         "States.Format: the template has 1 placeholder(s) '{}' but 2 argument(s) follow it"),
        ("States.Format($.n)", "Invalid argument 1 of States.Format: expected a string, found 3"),
        ("States.Format()", "States.Format takes at least 1 arguments, but 0 were given"),
        ("States.StringToJson('{bad')",
         "Invalid argument 1 of States.StringToJson: expected a string containing JSON text, "
         "found \"{bad\""),
        ("States.StringToJson($.n)",
         "Invalid argument 1 of States.StringToJson: expected a string, found 3"),
        ("States.JsonToString()", "States.JsonToString takes 1 argument, but 0 were given"),
        ("States.ArrayPartition($.n, 2)",
         "Invalid argument 1 of States.ArrayPartition: expected an array, found 3"),
        ("States.ArrayPartition($.arr, 0)",
         "Invalid argument 2 of States.ArrayPartition: expected a positive integer chunk size, "
         "found 0"),
        ("States.ArrayPartition($.arr, '2')",
         "Invalid argument 2 of States.ArrayPartition: expected a number, found \"2\""),
        ("States.ArrayContains($.obj, 1)",
         "Invalid argument 1 of States.ArrayContains: expected an array, found {\"a\":1,\"b\":{"
         "\"c\":2}}"),
        ("States.ArrayRange(1, 10, 0)",
         "Invalid argument 3 of States.ArrayRange: expected a non-zero step, found 0"),
        ("States.ArrayRange(1, 1001, 1)",
         "States.ArrayRange: the range from 1 to 1001 by 1 has 1001 items, more than the "
         "maximum of 1000"),
        ("States.ArrayRange(true, 2, 1)",
         "Invalid argument 1 of States.ArrayRange: expected a number, found true"),
        ("States.ArrayGetItem($.arr, 9)",
         "Invalid argument 2 of States.ArrayGetItem: expected an index below the array length 9,"
         " found 9"),
        ("States.ArrayGetItem($.arr, -1)",
         "Invalid argument 2 of States.ArrayGetItem: expected a non-negative integer, found -1"),
        ("States.ArrayGetItem($.arr, 1.5)",
         "Invalid argument 2 of States.ArrayGetItem: expected a non-negative integer, found 1.5"),
        ("States.ArrayGetItem($.name, 0)",
         "Invalid argument 1 of States.ArrayGetItem: expected an array, found \"Arnav\""),
        ("States.ArrayLength(null)",
         "Invalid argument 1 of States.ArrayLength: expected an array, found null"),
        ("States.ArrayLength($.arr, 1)", "States.ArrayLength takes 1 argument, but 2 were given"),
        ("States.ArrayUnique('x')",
         "Invalid argument 1 of States.ArrayUnique: expected an array, found \"x\""),
        ("States.Base64Encode($.n)",
         "Invalid argument 1 of States.Base64Encode: expected a string, found 3"),
        ("States.Base64Decode('not base64!')",
         "Invalid argument 1 of States.Base64Decode: expected a Base64 string encoding UTF-8 "
         "text, found \"not base64!\""),
        ("States.Hash('x', 'SHA-999')",
         "Invalid argument 2 of States.Hash: expected one of MD5, SHA-1, SHA-256, SHA-384, "
         "SHA-512, found \"SHA-999\""),
        ("States.Hash($.obj, 'MD5')",
         "Invalid argument 1 of States.Hash: expected a string, found {\"a\":1,\"b\":{\"c\":2}}"),
        ("States.JsonMerge($.obj, $.obj2, true)",
         "Invalid argument 3 of States.JsonMerge: expected false (only shallow merge is "
         "supported), found true"),
        ("States.JsonMerge($.obj, $.arr, false)",
         "Invalid argument 2 of States.JsonMerge: expected a JSON object, found [1,2,3,4,5,6,7,8,"
         "9]"),
        ("States.JsonMerge($.obj, $.obj2)", "States.JsonMerge takes 3 arguments, but 2 were given"),
        ("States.MathRandom(5, 5)",
         "Invalid argument 2 of States.MathRandom: expected an end greater than the start 5, "
         "found 5"),
        ("States.MathRandom(1)", "States.MathRandom takes 2 to 3 arguments, but 1 were given"),
        ("States.MathAdd(2147483648, 1)",
         "Invalid argument 1 of States.MathAdd: expected an integer between -2147483648 and "
         "2147483647, found 2147483648"),
        ("States.MathAdd('1', 1)",
         "Invalid argument 1 of States.MathAdd: expected a number, found \"1\""),
        ("States.StringSplit($.arr, ',')",
         "Invalid argument 1 of States.StringSplit: expected a string, found [1,2,3,4,5,6,7,8,9]"),
        ("States.UUID(1)", "States.UUID takes 0 arguments, but 1 were given"),
    ],
)
def test_bad_arguments_raise_intrinsic_failure(text: str, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        run(text)
    assert info.value.error == INTRINSIC_FAILURE
    assert info.value.cause == cause


def test_base64_input_over_10000_characters_is_refused() -> None:
    with pytest.raises(StatesError) as info:
        run("States.Base64Encode($.s)", {"s": "a" * 10_001})
    assert info.value.error == INTRINSIC_FAILURE
    assert info.value.cause.startswith(
        "Invalid argument 1 of States.Base64Encode: expected a string of at most 10000 characters"
    )


@pytest.mark.parametrize("escape", ["\\n", "\\t", '\\"', "\\u", "\\a", "\\/"])
def test_an_escape_aws_does_not_document_is_refused_when_the_call_is_compiled(escape: str) -> None:
    # Regression (issue 10): it compiled and failed only at run time with States.Runtime.
    with pytest.raises(IntrinsicSyntaxError) as info:
        compile_intrinsic(f"States.Format('a{escape}b')")
    assert f"invalid escape sequence '{escape}' in a string literal" in str(info.value)
    assert "(only \\', \\{, \\} and \\\\ are allowed)" in str(info.value)


@pytest.mark.parametrize(("escape", "value"),
                         [("\\'", "'"), ("\\{", "{"), ("\\}", "}"), ("\\\\", "\\")])
def test_the_four_documented_escapes_stand_for_their_character(escape: str, value: str) -> None:
    assert compile_intrinsic(f"States.Format('<{escape}>')").evaluate({}) == f"<{value}>"


def test_a_definition_with_an_undocumented_escape_is_refused_naming_state_and_field() -> None:
    definition = {"StartAt": "Fmt", "States": {"Fmt": {
        "Type": "Pass", "Parameters": {"msg.$": "States.Format('a\\nb {}', $.x)"},
        "End": True}}}
    (problem,) = validate_definition(json.dumps(definition))
    assert problem.path == "/States/Fmt/Parameters/msg.$"
    assert "state 'Fmt'" in problem.message and "invalid escape sequence '\\n'" in problem.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("States.Nope()", "unknown intrinsic function 'States.Nope'"),
        ("States.Array", "expected '(' after the function name"),
        ("States.Array(1", "missing ')' to close States.Array("),
        ("States.Array(1) x", "unexpected text after the closing ')'"),
        ("States.Array('abc)", "unterminated string literal"),
        ("States.Array(1 2)", "expected ',' or ')' but found '2'"),
        ("States.Array(,)", "unexpected character ','"),
        ("States.Array(abc)", "unexpected character 'a'"),
        ("States.Array(1.2.3)", "invalid number '1.2.3'"),
        ("States.Array($.a[?()", "is not a valid path"),
        ("Array(1)", "is not an intrinsic function call"),
        ("States.Array(" * 11 + ")" * 11, "more than 10 nested intrinsic functions"),
    ],
)
def test_malformed_call_raises_intrinsic_syntax_error(text: str, message: str) -> None:
    with pytest.raises(IntrinsicSyntaxError) as info:
        compile_intrinsic(text)
    assert message in str(info.value)


def test_ten_nested_calls_are_allowed() -> None:
    assert run("States.Array(" * 10 + ")" * 10) == [[[[[[[[[[]]]]]]]]]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("States.Format('x')", True), ("$.a", False), ("States", False), ("", False)],
)
def test_is_intrinsic_recognises_calls(text: str, expected: bool) -> None:
    assert is_intrinsic(text) is expected


def test_compiled_calls_are_cached() -> None:
    assert compile_intrinsic("States.Array(1)") is compile_intrinsic("States.Array(1)")

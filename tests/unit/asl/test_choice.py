"""Choice rules (spec 5.2): every operator, Path variants, type mismatches, combinators."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.asl._choice import ChoiceRuleError, compile_choice_rule, wildcard_matcher
from orchestrator.asl.errors import RUNTIME, StatesError

DATA: dict[str, Any] = {
    "n": 5,
    "f": 5.0,
    "big": 10.5,
    "s": "abc",
    "t": True,
    "false": False,
    "null": None,
    "ts": "2024-01-01T00:00:00Z",
    "ts_later": "2024-01-01T01:00:00+00:00",
    "ts_offset": "2024-01-01T01:00:00+01:00",
    "bad_ts": "2024-01-01 00:00:00",
    "file": "log-2024.txt",
    "star": "a*b",
    "astral": "\U0001F600",
    "private": "\uE000",
    "list": [1, 2],
    "obj": {"k": "v"},
    "other": {"n": 5, "s": "abd", "t": True, "ts": "2024-01-01T00:00:00.000Z", "str5": "5"},
}


def check(rule: dict[str, Any], expected: bool, context: Any = None) -> None:
    assert compile_choice_rule(rule).matches(DATA, context) is expected


@pytest.mark.parametrize(
    ("variable", "operator", "operand", "expected"),
    [
        ("$.n", "NumericEquals", 5, True),
        ("$.n", "NumericEquals", 5.0, True),
        ("$.f", "NumericEquals", 5, True),
        ("$.n", "NumericEquals", 6, False),
        ("$.n", "NumericLessThan", 6, True),
        ("$.n", "NumericLessThan", 5, False),
        ("$.n", "NumericGreaterThan", 4.5, True),
        ("$.n", "NumericGreaterThan", 5, False),
        ("$.n", "NumericLessThanEquals", 5, True),
        ("$.big", "NumericLessThanEquals", 10, False),
        ("$.n", "NumericGreaterThanEquals", 5, True),
        ("$.n", "NumericGreaterThanEquals", 5.5, False),
        ("$.s", "NumericEquals", 5, False),
        ("$.t", "NumericEquals", 1, False),
        ("$.null", "NumericLessThan", 1, False),
        ("$.other.str5", "NumericEquals", 5, False),
        ("$.s", "StringEquals", "abc", True),
        ("$.s", "StringEquals", "ABC", False),
        ("$.n", "StringEquals", "5", False),
        ("$.s", "StringLessThan", "abd", True),
        ("$.s", "StringLessThan", "abc", False),
        ("$.s", "StringGreaterThan", "ab", True),
        ("$.s", "StringGreaterThan", "b", False),
        ("$.s", "StringLessThanEquals", "abc", True),
        ("$.s", "StringGreaterThanEquals", "abc", True),
        ("$.s", "StringGreaterThanEquals", "abcd", False),
        # Java compareTo works on UTF-16 code units: U+1F600 (surrogates D83D...) sorts before
        # U+E000, although its code point is larger.
        ("$.astral", "StringLessThan", "\uE000", True),
        ("$.private", "StringGreaterThan", "\U0001F600", True),
        ("$.t", "BooleanEquals", True, True),
        ("$.false", "BooleanEquals", True, False),
        ("$.false", "BooleanEquals", False, True),
        ("$.n", "BooleanEquals", True, False),
        ("$.null", "BooleanEquals", False, False),
        ("$.ts", "TimestampEquals", "2024-01-01T00:00:00Z", True),
        ("$.ts", "TimestampEquals", "2024-01-01T01:00:00+01:00", True),
        ("$.ts", "TimestampEquals", "2024-01-01T00:00:00.001Z", False),
        ("$.ts", "TimestampLessThan", "2024-01-01T00:00:01Z", True),
        ("$.ts_later", "TimestampGreaterThan", "2024-01-01T00:59:59.999Z", True),
        ("$.ts_offset", "TimestampLessThanEquals", "2024-01-01T00:00:00Z", True),
        ("$.ts", "TimestampGreaterThanEquals", "2024-01-01T00:00:00Z", True),
        ("$.ts", "TimestampGreaterThanEquals", "2024-01-02T00:00:00Z", False),
        ("$.bad_ts", "TimestampEquals", "2024-01-01T00:00:00Z", False),
        ("$.n", "TimestampLessThan", "2024-01-01T00:00:00Z", False),
        ("$.file", "StringMatches", "log-*.txt", True),
        ("$.file", "StringMatches", "*.txt", True),
        ("$.file", "StringMatches", "log-*", True),
        ("$.file", "StringMatches", "*", True),
        ("$.file", "StringMatches", "*2024*", True),
        ("$.file", "StringMatches", "log-*.csv", False),
        ("$.file", "StringMatches", "log-2024.txt", True),
        ("$.file", "StringMatches", "log", False),
        ("$.star", "StringMatches", "a\\*b", True),
        ("$.file", "StringMatches", "a\\*b", False),
        ("$.star", "StringMatches", "a\\**", True),
        ("$.n", "StringMatches", "*", False),
        ("$.null", "IsNull", True, True),
        ("$.n", "IsNull", True, False),
        ("$.n", "IsNull", False, True),
        ("$.n", "IsNumeric", True, True),
        ("$.f", "IsNumeric", True, True),
        ("$.t", "IsNumeric", True, False),
        ("$.s", "IsNumeric", False, True),
        ("$.s", "IsString", True, True),
        ("$.ts", "IsString", True, True),
        ("$.n", "IsString", True, False),
        ("$.t", "IsBoolean", True, True),
        ("$.n", "IsBoolean", True, False),
        ("$.ts", "IsTimestamp", True, True),
        ("$.bad_ts", "IsTimestamp", True, False),
        ("$.n", "IsTimestamp", False, True),
        ("$.n", "IsPresent", True, True),
        ("$.null", "IsPresent", True, True),
        ("$.missing", "IsPresent", True, False),
        ("$.missing", "IsPresent", False, True),
        ("$.list[5]", "IsPresent", True, False),
        ("$.list[1]", "IsPresent", True, True),
        ("$.obj.k", "StringEquals", "v", True),
        ("$['obj']['k']", "StringEquals", "v", True),
    ],
)
def test_comparison_rule(variable: str, operator: str, operand: Any, expected: bool) -> None:
    check({"Variable": variable, operator: operand, "Next": "Somewhere"}, expected)


@pytest.mark.parametrize(
    ("variable", "operator", "path", "expected"),
    [
        ("$.n", "NumericEqualsPath", "$.other.n", True),
        ("$.n", "NumericLessThanPath", "$.big", True),
        ("$.n", "NumericGreaterThanPath", "$.big", False),
        ("$.n", "NumericLessThanEqualsPath", "$.f", True),
        ("$.n", "NumericGreaterThanEqualsPath", "$.f", True),
        ("$.n", "NumericEqualsPath", "$.other.str5", False),
        ("$.s", "StringEqualsPath", "$.s", True),
        ("$.s", "StringLessThanPath", "$.other.s", True),
        ("$.s", "StringGreaterThanPath", "$.other.s", False),
        ("$.s", "StringLessThanEqualsPath", "$.other.s", True),
        ("$.s", "StringGreaterThanEqualsPath", "$.other.s", False),
        ("$.s", "StringEqualsPath", "$.n", False),
        ("$.t", "BooleanEqualsPath", "$.other.t", True),
        ("$.false", "BooleanEqualsPath", "$.other.t", False),
        ("$.t", "BooleanEqualsPath", "$.n", False),
        ("$.ts", "TimestampEqualsPath", "$.other.ts", True),
        ("$.ts", "TimestampLessThanPath", "$.ts_later", True),
        ("$.ts", "TimestampGreaterThanPath", "$.ts_later", False),
        ("$.ts", "TimestampLessThanEqualsPath", "$.other.ts", True),
        ("$.ts", "TimestampGreaterThanEqualsPath", "$.ts_offset", True),
        ("$.ts", "TimestampEqualsPath", "$.n", False),
        ("$.ts", "TimestampEqualsPath", "$.bad_ts", False),
    ],
)
def test_path_variant_compares_with_another_path(
    variable: str, operator: str, path: str, expected: bool
) -> None:
    check({"Variable": variable, operator: path}, expected)


def test_context_paths_are_read_from_the_context_object() -> None:
    context = {"Map": {"Item": {"Index": 5}}}
    check({"Variable": "$$.Map.Item.Index", "NumericEqualsPath": "$.n"}, True, context)
    check({"Variable": "$.n", "NumericEqualsPath": "$$.Map.Item.Index"}, True, context)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"And": [{"Variable": "$.n", "NumericEquals": 5},
                  {"Variable": "$.s", "StringEquals": "abc"}]}, True),
        ({"And": [{"Variable": "$.n", "NumericEquals": 5},
                  {"Variable": "$.s", "StringEquals": "x"}]}, False),
        ({"Or": [{"Variable": "$.n", "NumericEquals": 1},
                 {"Variable": "$.s", "StringEquals": "abc"}]}, True),
        ({"Or": [{"Variable": "$.n", "NumericEquals": 1}]}, False),
        ({"Not": {"Variable": "$.n", "NumericEquals": 1}}, True),
        ({"Not": {"Not": {"Variable": "$.n", "NumericEquals": 1}}}, False),
        ({"And": [{"Variable": "$.missing", "IsPresent": True},
                  {"Variable": "$.missing", "NumericEquals": 1}]}, False),
        ({"Or": [{"Variable": "$.n", "IsPresent": True},
                 {"Variable": "$.missing", "NumericEquals": 1}]}, True),
        ({"Not": {"Variable": "$.missing", "IsPresent": True}, "Next": "X", "Comment": "c"}, True),
    ],
)
def test_combinators_short_circuit_and_combine(rule: dict[str, Any], expected: bool) -> None:
    check(rule, expected)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"Variable": "$.missing", "NumericEquals": 1}, "$.missing"),
        ({"Variable": "$.missing", "IsNull": True}, "$.missing"),
        ({"Variable": "$.missing", "StringMatches": "*"}, "$.missing"),
        ({"Variable": "$.n", "NumericEqualsPath": "$.nope"}, "$.nope"),
        ({"Not": {"Variable": "$.obj.x", "BooleanEquals": True}}, "$.obj.x"),
    ],
)
def test_missing_path_raises_runtime_with_aws_cause(rule: dict[str, Any], path: str) -> None:
    with pytest.raises(StatesError) as info:
        compile_choice_rule(rule).matches(DATA)
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        f"Invalid path '{path}': The choice state's condition path references an invalid value."
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("x", "A Choice rule must be an object"),
        ({"Next": "A"}, "A Choice rule needs 'Variable'"),
        ({"Variable": "$.n"}, "exactly one comparison operator, found none"),
        ({"Variable": "$.n", "NumericEquals": 1, "NumericLessThan": 2},
         "exactly one comparison operator, found NumericEquals, NumericLessThan"),
        ({"Variable": "$.n", "NumericEqualz": 1}, "Unknown Choice rule field(s): NumericEqualz"),
        ({"Variable": "n", "NumericEquals": 1},
         "Field 'Variable' must be a path starting with '$'"),
        ({"Variable": "$.n", "NumericEquals": "1"}, "Field 'NumericEquals' must be a number"),
        ({"Variable": "$.n", "NumericEquals": True}, "Field 'NumericEquals' must be a number"),
        ({"Variable": "$.s", "StringEquals": 1}, "Field 'StringEquals' must be a string"),
        ({"Variable": "$.s", "StringMatches": 1}, "Field 'StringMatches' must be a string"),
        ({"Variable": "$.t", "BooleanEquals": "true"}, "Field 'BooleanEquals' must be a boolean"),
        ({"Variable": "$.ts", "TimestampEquals": "2024-01-01"},
         "Field 'TimestampEquals' must be a timestamp string"),
        ({"Variable": "$.n", "IsPresent": "yes"}, "Field 'IsPresent' must be a boolean"),
        ({"Variable": "$.n", "NumericEqualsPath": 5},
         "Field 'NumericEqualsPath' must be a path starting with '$'"),
        ({"And": []}, "Field 'And' must be a non-empty array of Choice rules"),
        ({"Or": {"Variable": "$.n", "IsNull": True}}, "Field 'Or' must be a non-empty array"),
        ({"Not": [{"Variable": "$.n", "IsNull": True}]},
         "Field 'Not' must be a Choice rule object"),
        ({"And": [{"Variable": "$.n", "IsNull": True}], "Variable": "$.n"},
         "A Choice rule with 'And' cannot also have 'Variable'"),
        ({"And": [{"Variable": "$.n"}]}, "exactly one comparison operator"),
    ],
)
def test_bad_rule_raises_choice_rule_error(rule: Any, message: str) -> None:
    with pytest.raises(ChoiceRuleError) as info:
        compile_choice_rule(rule)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("a*", "a.b.c", True),
        ("a*", "a\nb", True),
        ("*.[ch]", "x.c", False),
        ("*.[ch]", "x.[ch]", True),
        ("a\\\\b", "a\\b", True),
        ("a\\b", "a\\b", True),
        ("", "", True),
        ("", "x", False),
        ("(x)+", "(x)+", True),
    ],
)
def test_wildcard_matcher_treats_only_star_as_special(
    pattern: str, value: str, expected: bool
) -> None:
    assert wildcard_matcher(pattern)(value) is expected

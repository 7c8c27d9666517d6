"""Validation of Choice states and their rules (spec 5.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.asl._validate_fields import (
    JSONATA,
    PATH,
    REFERENCE,
    Checker,
    check_assign,
    expect_object,
    expect_string,
    is_jsonata,
    is_number,
    path_error,
    pointer,
    show,
)
from orchestrator.asl._validate_retry import Transition
from orchestrator.asl._validate_states import StateContext, is_timestamp

_STRING = ("StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals",
           "StringGreaterThanEquals")
_NUMERIC = ("NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals",
            "NumericGreaterThanEquals")
_TIMESTAMP = ("TimestampEquals", "TimestampLessThan", "TimestampGreaterThan",
              "TimestampLessThanEquals", "TimestampGreaterThanEquals")
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")

#: Comparison operator -> what its operand must be.
OPERATORS: dict[str, str] = {
    **{op: "string" for op in _STRING},
    "StringMatches": "string",
    **{op: "number" for op in _NUMERIC},
    "BooleanEquals": "boolean",
    **{op: "timestamp" for op in _TIMESTAMP},
    **{op: "boolean" for op in _TYPE_TESTS},
    # Every comparison except StringMatches and the type tests has a ...Path variant.
    **{op + "Path": "path" for op in (*_STRING, *_NUMERIC, "BooleanEquals", *_TIMESTAMP)},
}
_COMBINATORS = ("And", "Or", "Not")
_JSONATA_RULE_FIELDS = frozenset({"Condition", "Next", "Assign", "Output", "Comment"})


def check_choice(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> list[Transition]:
    """Choice: non-empty ``Choices`` of rules each with ``Next``; optional ``Default``.

    A JSONPath rule has a ``Variable`` and exactly one comparison operator, or exactly one of
    ``And``/``Or`` (non-empty arrays) / ``Not`` (one rule); rules nested in a combinator have
    no ``Next``. A JSONata rule has a ``Condition`` instead.
    """
    where, path = ctx.where, ctx.path
    transitions: list[Transition] = []
    if "Choices" not in state:
        chk.schema(path, f"Missing required field 'Choices' {where}")
    else:
        choices = state["Choices"]
        here = pointer(path, "Choices")
        if not isinstance(choices, list) or not choices:
            chk.schema(
                here, f"Field 'Choices' {where} must be a non-empty array, got {show(choices)}"
            )
        else:
            for index, rule in enumerate(choices):
                rule_path = pointer(here, index)
                if not expect_object(chk, rule, rule_path, f"Choices[{index}]", where):
                    continue
                if "Assign" in rule:
                    check_assign(chk, rule["Assign"], pointer(rule_path, "Assign"), where,
                                 ctx.language)
                if ctx.language == JSONATA:
                    _check_jsonata_rule(chk, rule, rule_path, where)
                else:
                    before = len(chk.problems)
                    _check_rule(chk, rule, rule_path, where, top=True)
                    if len(chk.problems) == before:
                        _compile_rule(chk, rule, rule_path, where)
                if "Next" not in rule:
                    chk.schema(rule_path,
                               f"Missing required field 'Next' in Choices[{index}] {where}")
                elif expect_string(chk, rule["Next"], pointer(rule_path, "Next"), "Next", where):
                    transitions.append((rule["Next"], pointer(rule_path, "Next")))
    if "Default" in state:
        default = state["Default"]
        if expect_string(chk, default, pointer(path, "Default"), "Default", where):
            transitions.append((default, pointer(path, "Default")))
    return transitions


def _compile_rule(chk: Checker, rule: Mapping[str, Any], path: str, where: str) -> None:
    """Last safety net: the rule compiler must accept what the checks above accepted."""
    try:
        from orchestrator.asl._choice import compile_choice_rule
    except ImportError:
        return
    try:
        compile_choice_rule(rule)
    except Exception as exc:
        chk.schema(path, f"Invalid Choice rule {where}: {exc}")


def _check_jsonata_rule(
    chk: Checker, rule: Mapping[str, Any], path: str, where: str
) -> None:
    for key in rule:
        if key in OPERATORS or key in _COMBINATORS or key == "Variable":
            chk.schema(
                path,
                f"The QueryLanguage is set to 'JSONata', but field '{key}' is only supported "
                "for the 'JSONPath' QueryLanguage",
            )
        elif key not in _JSONATA_RULE_FIELDS:
            chk.schema(path, f"Field '{key}' is not supported")
    if "Condition" not in rule:
        chk.schema(path, f"Missing required field 'Condition' in a Choice rule {where}")
    else:
        condition = rule["Condition"]
        if not (isinstance(condition, bool) or is_jsonata(condition)):
            chk.schema(
                pointer(path, "Condition"),
                f"Field 'Condition' {where} must be a JSONata expression '{{% ... %}}' or a "
                f"boolean, got {show(condition)}",
            )


def _check_rule(
    chk: Checker, rule: Mapping[str, Any], path: str, where: str, *, top: bool
) -> None:
    allowed_extra = {"Variable", "Comment"} | ({"Next", "Assign"} if top else set())
    operators: list[str] = []
    unknown = False
    for key in rule:
        if key in OPERATORS or key in _COMBINATORS:
            operators.append(key)
        elif key == "Condition":
            chk.schema(
                path,
                "The QueryLanguage is set to 'JSONPath', but field 'Condition' is only "
                "supported for the 'JSONata' QueryLanguage",
            )
        elif key not in allowed_extra:
            if key == "Next":
                chk.schema(pointer(path, "Next"),
                           f"A rule nested in And/Or/Not {where} must not have 'Next'")
            else:
                unknown = True
                chk.schema(path, f"Field '{key}' is not supported")
    if not operators and unknown:
        return  # the unsupported field was probably meant as the operator; said once is enough
    if len(operators) != 1:
        chk.schema(
            path,
            f"A Choice rule {where} must have exactly one comparison operator or one of "
            f"And/Or/Not, got {show(operators)}",
        )
        return
    operator = operators[0]
    value = rule[operator]
    here = pointer(path, operator)
    if operator in _COMBINATORS:
        if "Variable" in rule:
            chk.schema(pointer(path, "Variable"),
                       f"Field 'Variable' {where} cannot be combined with '{operator}'")
        if operator == "Not":
            if expect_object(chk, value, here, "Not", where):
                _check_rule(chk, value, here, where, top=False)
        elif not isinstance(value, list) or not value:
            chk.schema(
                here, f"Field '{operator}' {where} must be a non-empty array of rules, "
                f"got {show(value)}"
            )
        else:
            for index, nested in enumerate(value):
                nested_path = pointer(here, index)
                if expect_object(chk, nested, nested_path, f"{operator}[{index}]", where):
                    _check_rule(chk, nested, nested_path, where, top=False)
        return
    if "Variable" not in rule:
        chk.schema(path, f"Missing required field 'Variable' in a Choice rule {where}")
    else:
        error = path_error(rule["Variable"], PATH)
        if error is not None:
            chk.schema(pointer(path, "Variable"),
                       f"Field 'Variable' {where} {error}, got {show(rule['Variable'])}")
    _check_operand(chk, operator, value, here, where)


def _check_operand(chk: Checker, operator: str, value: Any, path: str, where: str) -> None:
    expected = OPERATORS[operator]
    if expected == "path":
        error = path_error(value, REFERENCE)
        if error is not None:
            chk.schema(path, f"Field '{operator}' {where} {error}, got {show(value)}")
        return
    if expected == "string":
        ok = isinstance(value, str)
        what = "a string"
    elif expected == "number":
        ok = is_number(value)
        what = "a number"
    elif expected == "boolean":
        ok = isinstance(value, bool)
        what = "a boolean"
    else:
        ok = is_timestamp(value)
        what = "an RFC 3339 timestamp such as '2025-06-01T12:00:00Z'"
    if not ok:
        chk.schema(path, f"Field '{operator}' {where} must be {what}, got {show(value)}")

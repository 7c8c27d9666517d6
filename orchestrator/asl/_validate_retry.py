"""Validation of ``Retry`` and ``Catch`` (spec 4.3, 4.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.asl._validate_fields import (
    JSONATA,
    JSONPATH,
    MAX_SECONDS,
    RESULT,
    Checker,
    check_assign,
    check_error_name,
    check_fields,
    check_path,
    expect_enum,
    expect_int,
    expect_object,
    expect_string,
    is_number,
    pointer,
    show,
)
from orchestrator.asl.errors import ALL

#: A transition found while validating: (target state name, pointer of the referring field).
Transition = tuple[str, str]

_RETRIER_FIELDS = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
_CATCHER_COMMON = frozenset({"ErrorEquals", "Next", "Comment", "Assign"})
_CATCHER_BY_LANGUAGE = {
    JSONPATH: frozenset({"ResultPath"}),
    JSONATA: frozenset({"Output"}),
}
#: MaxDelaySeconds bounds: 0 < v < 31,622,401 (AWS schema).
MAX_DELAY_SECONDS = 31_622_400


def check_retry(chk: Checker, value: Any, path: str, where: str) -> None:
    """Validate a ``Retry`` array: retrier shapes, bounds and the ``States.ALL`` rule.

    ``States.ALL`` must be alone in its ``ErrorEquals`` and appear only in the last retrier.
    """
    if not isinstance(value, list):
        chk.schema(path, f"Field 'Retry' {where} must be an array, got {show(value)}")
        return
    for index, retrier in enumerate(value):
        here = pointer(path, index)
        if not expect_object(chk, retrier, here, f"Retry[{index}]", where):
            continue
        check_fields(chk, retrier, here, _RETRIER_FIELDS)
        _check_error_equals(chk, retrier, here, where, "Retry", last=index == len(value) - 1)
        if "IntervalSeconds" in retrier:
            expect_int(chk, retrier["IntervalSeconds"], pointer(here, "IntervalSeconds"),
                       "IntervalSeconds", where, low=1, high=MAX_SECONDS)
        if "MaxAttempts" in retrier:
            expect_int(chk, retrier["MaxAttempts"], pointer(here, "MaxAttempts"),
                       "MaxAttempts", where, low=0, high=MAX_SECONDS)
        if "MaxDelaySeconds" in retrier:
            expect_int(chk, retrier["MaxDelaySeconds"], pointer(here, "MaxDelaySeconds"),
                       "MaxDelaySeconds", where, low=1, high=MAX_DELAY_SECONDS)
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            if not (is_number(rate) and rate >= 1.0):
                chk.schema(
                    pointer(here, "BackoffRate"),
                    f"Field 'BackoffRate' {where} must be a number >= 1.0, got {show(rate)}",
                )
        if "JitterStrategy" in retrier:
            expect_enum(chk, retrier["JitterStrategy"], pointer(here, "JitterStrategy"),
                        "JitterStrategy", where, ("FULL", "NONE"))
        if "Comment" in retrier:
            expect_string(chk, retrier["Comment"], pointer(here, "Comment"), "Comment", where,
                          non_empty=False)


def check_catch(
    chk: Checker, value: Any, path: str, where: str, language: str
) -> list[Transition]:
    """Validate a ``Catch`` array; returns the catchers' ``Next`` transitions.

    Each catcher needs ``ErrorEquals`` and ``Next``; ``ResultPath`` (JSONPath) is a reference
    path or null; ``Output`` (JSONata) replaces it.
    """
    transitions: list[Transition] = []
    if not isinstance(value, list):
        chk.schema(path, f"Field 'Catch' {where} must be an array, got {show(value)}")
        return transitions
    other = JSONATA if language == JSONPATH else JSONPATH
    allowed = _CATCHER_COMMON | _CATCHER_BY_LANGUAGE[language]
    for index, catcher in enumerate(value):
        here = pointer(path, index)
        if not expect_object(chk, catcher, here, f"Catch[{index}]", where):
            continue
        for key in catcher:
            if key in _CATCHER_BY_LANGUAGE[other]:
                chk.schema(
                    here,
                    f"The QueryLanguage is set to '{language}', but field '{key}' is only "
                    f"supported for the '{other}' QueryLanguage",
                )
            elif key not in allowed:
                chk.schema(here, f"Field '{key}' is not supported")
        _check_error_equals(chk, catcher, here, where, "Catch", last=index == len(value) - 1)
        if "Next" not in catcher:
            chk.schema(here, f"Missing required field 'Next' in Catch[{index}] {where}")
        elif expect_string(chk, catcher["Next"], pointer(here, "Next"), "Next", where):
            transitions.append((catcher["Next"], pointer(here, "Next")))
        if language == JSONPATH:
            check_path(chk, catcher, "ResultPath", here, where, RESULT, nullable=True)
        if "Assign" in catcher:
            check_assign(chk, catcher["Assign"], pointer(here, "Assign"), where, language)
    return transitions


def _check_error_equals(
    chk: Checker, rule: Mapping[str, Any], path: str, where: str, kind: str, *, last: bool
) -> None:
    if "ErrorEquals" not in rule:
        chk.schema(path, f"Missing required field 'ErrorEquals' in {kind} {where}")
        return
    names = rule["ErrorEquals"]
    here = pointer(path, "ErrorEquals")
    if not isinstance(names, list) or not names:
        chk.schema(
            here,
            f"Field 'ErrorEquals' {where} must be a non-empty array of error names, "
            f"got {show(names)}",
        )
        return
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name:
            chk.schema(
                pointer(here, index),
                f"Field 'ErrorEquals' {where} must hold non-empty strings, got {show(name)}",
            )
            continue
        check_error_name(chk, name, pointer(here, index), "ErrorEquals", where)
    if ALL in names:
        if len(names) > 1:
            chk.schema(
                here,
                f"Field 'ErrorEquals' {where}: '{ALL}' must appear alone, got {show(names)}",
            )
        if not last:
            chk.schema(
                here,
                f"'{ALL}' {where} may only appear in the last element of '{kind}'",
            )

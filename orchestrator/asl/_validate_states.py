"""Validation of one state: common fields, query-language placement, and the simple types.

Pass, Task, Wait, Succeed, Fail and Parallel live here; Choice is in ``_validate_choice``
and Map in ``_validate_map``. Each type validator returns the state's outgoing transitions
other than ``Next`` (Choice rules, ``Default``, ``Catch``) so the scope can check targets
and reachability.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.asl._validate_variables import check_resource
from orchestrator.asl._validate_fields import (
    FAIL,
    JSONATA,
    JSONPATH,
    MAX_SECONDS,
    PATH,
    QUERY_LANGUAGES,
    REFERENCE,
    RESULT,
    Checker,
    check_assign,
    check_error_name,
    check_path,
    check_payload,
    exclusive,
    expect_int,
    expect_object,
    expect_string,
    is_int,
    is_jsonata,
    pointer,
    show,
)
from orchestrator.asl._validate_retry import Transition, check_catch, check_retry


@dataclass(frozen=True, slots=True)
class StateContext:
    """What a state validator needs to know about where the state sits.

    Attributes:
        name: the state's name.
        path: pointer of the state object.
        language: the state's effective QueryLanguage.
        machine_type: STANDARD or EXPRESS for the workflow running this scope (a Distributed
            Map's children run as its ``ExecutionType``).
    """

    name: str
    path: str
    language: str
    machine_type: str

    @property
    def where(self) -> str:
        """Owner clause for messages."""
        return f"of state '{self.name}'"


StateValidator = Callable[[Checker, Mapping[str, Any], StateContext], list[Transition]]

_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_IO_PATHS = frozenset({"InputPath", "OutputPath"})
_RESULT_FIELDS = frozenset({"Parameters", "ResultSelector", "ResultPath"})

#: Per type: (fields of both languages, JSONPath-only fields, JSONata-only fields).
FIELDS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "Pass": (
        _COMMON | {"Next", "End", "Assign", "Result"},
        _IO_PATHS | {"Parameters", "ResultPath"},
        frozenset({"Output"}),
    ),
    "Task": (
        _COMMON
        | {"Next", "End", "Assign", "Resource", "TimeoutSeconds", "HeartbeatSeconds", "Retry",
           "Catch", "Credentials"},
        _IO_PATHS | _RESULT_FIELDS | {"TimeoutSecondsPath", "HeartbeatSecondsPath"},
        frozenset({"Arguments", "Output"}),
    ),
    "Choice": (
        _COMMON | {"Choices", "Default", "Assign"},
        _IO_PATHS,
        frozenset({"Output"}),
    ),
    "Wait": (
        _COMMON | {"Next", "End", "Assign", "Seconds", "Timestamp"},
        _IO_PATHS | {"SecondsPath", "TimestampPath"},
        frozenset({"Output"}),
    ),
    "Succeed": (_COMMON, _IO_PATHS, frozenset({"Output"})),
    "Fail": (_COMMON | {"Error", "Cause"}, frozenset({"ErrorPath", "CausePath"}), frozenset()),
    "Parallel": (
        _COMMON | {"Next", "End", "Assign", "Branches", "Retry", "Catch"},
        _IO_PATHS | _RESULT_FIELDS,
        frozenset({"Arguments", "Output"}),
    ),
    "Map": (
        _COMMON
        | {"Next", "End", "Assign", "ItemProcessor", "Iterator", "ItemSelector", "ItemReader",
           "ItemBatcher", "MaxConcurrency", "ToleratedFailurePercentage",
           "ToleratedFailureCount", "Label", "ResultWriter", "Retry", "Catch"},
        _IO_PATHS | _RESULT_FIELDS
        | {"ItemsPath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath",
           "ToleratedFailureCountPath"},
        frozenset({"Items", "Output"}),
    ),
}

#: Types that continue with Next or stop with End: true (exactly one of them).
TRANSITIONING = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})


def check_fields_for_language(
    chk: Checker, state: Mapping[str, Any], path: str, state_type: str, language: str
) -> set[str]:
    """Report unknown fields and fields of the other QueryLanguage; returns the bad keys.

    Messages reuse AWS's wording, located at the state like AWS's diagnostics.
    """
    both, jsonpath_only, jsonata_only = FIELDS[state_type]
    own, other = (jsonpath_only, jsonata_only) if language == JSONPATH else (
        jsonata_only, jsonpath_only)
    other_name = JSONATA if language == JSONPATH else JSONPATH
    bad: set[str] = set()
    for key in state:
        if key in both or key in own:
            continue
        bad.add(key)
        if key in other:
            chk.schema(
                path,
                f"The QueryLanguage is set to '{language}', but field '{key}' is only "
                f"supported for the '{other_name}' QueryLanguage",
            )
        else:
            chk.schema(path, f"Field '{key}' is not supported")
    return bad


def state_language(chk: Checker, state: Mapping[str, Any], path: str) -> str:
    """The effective QueryLanguage of a state, reporting a bad or forbidden value."""
    if "QueryLanguage" not in state:
        return chk.query_language
    value = state["QueryLanguage"]
    if value not in QUERY_LANGUAGES:
        chk.schema(
            pointer(path, "QueryLanguage"),
            f"Field 'QueryLanguage' of state must be one of JSONPath | JSONata, got {show(value)}",
        )
        return chk.query_language
    if chk.query_language == JSONATA and value == JSONPATH:
        chk.schema(
            path,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        )
    return str(value)


def check_common(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> None:
    """Comment, Assign, InputPath/OutputPath, Parameters/ResultSelector/ResultPath, Output."""
    where, path = ctx.where, ctx.path
    if "Comment" in state:
        expect_string(chk, state["Comment"], pointer(path, "Comment"), "Comment", where,
                      non_empty=False)
    if "Assign" in state:
        check_assign(chk, state["Assign"], pointer(path, "Assign"), where, ctx.language)
    if ctx.language != JSONPATH:
        return
    check_path(chk, state, "InputPath", path, where, PATH, nullable=True)
    check_path(chk, state, "OutputPath", path, where, PATH, nullable=True)
    check_path(chk, state, "ResultPath", path, where, RESULT, nullable=True)
    if state.get("Type") != "Map":  # Map's legacy Parameters is checked with ItemSelector
        check_payload(chk, state, "Parameters", path, where)
    check_payload(chk, state, "ResultSelector", path, where, must_be_object=True)


def check_pass(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> list[Transition]:
    """Pass: only common fields plus ``Result`` (any JSON)."""
    return []


def check_task(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> list[Transition]:
    """Task: ``Resource`` string; timeout/heartbeat literal-or-path pairs; Retry/Catch.

    ``Resource`` must be an ARN, as on AWS (see ``_validate_variables.resource_error`` for
    the accepted shapes); stepmap maps ARNs to its own handlers.
    """
    where, path = ctx.where, ctx.path
    if "Resource" not in state:
        chk.schema(path, f"Missing required field 'Resource' {where}")
    elif (not isinstance(state["Resource"], str) or not state["Resource"]
          or is_jsonata(state["Resource"])):
        # Resource is constant in both languages (spec 5.6): no JSONata expression.
        chk.add(pointer(path, "Resource"), "INVALID_RESOURCE",
                f"Field 'Resource' {where} must be a constant non-empty string, got "
                f"{show(state['Resource'])}")
    else:
        check_resource(chk, state["Resource"], pointer(path, "Resource"), where)
    jsonata = ctx.language == JSONATA
    for literal in ("TimeoutSeconds", "HeartbeatSeconds"):
        exclusive(chk, state, literal, literal + "Path", path, where)
        if literal in state:
            expect_int(chk, state[literal], pointer(path, literal), literal, where,
                       low=1, high=MAX_SECONDS, jsonata=jsonata)
        if ctx.language == JSONPATH:
            check_path(chk, state, literal + "Path", path, where, REFERENCE)
    timeout: Any = state.get("TimeoutSeconds")
    heartbeat: Any = state.get("HeartbeatSeconds")
    if is_int(timeout) and is_int(heartbeat) and heartbeat >= timeout:
        chk.schema(
            pointer(path, "HeartbeatSeconds"),
            f"Field 'HeartbeatSeconds' {where} must be smaller than TimeoutSeconds "
            f"({timeout}), got {heartbeat}",
        )
    if "Credentials" in state:
        if expect_object(chk, state["Credentials"], pointer(path, "Credentials"),
                         "Credentials", where) and ctx.language == JSONPATH:
            check_payload(chk, state, "Credentials", path, where)
    return check_retry_catch(chk, state, ctx)


def check_wait(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> list[Transition]:
    """Wait: exactly one of Seconds, Timestamp, SecondsPath, TimestampPath."""
    where, path = ctx.where, ctx.path
    given = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if k in state]
    if len(given) != 1:
        chk.schema(
            path,
            f"State '{ctx.name}' must have exactly one of 'Seconds', 'Timestamp', "
            f"'SecondsPath' or 'TimestampPath', got {show(given)}",
        )
    jsonata = ctx.language == JSONATA
    if "Seconds" in state:
        expect_int(chk, state["Seconds"], pointer(path, "Seconds"), "Seconds", where,
                   low=0, high=MAX_SECONDS, jsonata=jsonata)
    if "Timestamp" in state:
        value = state["Timestamp"]
        if not (jsonata and is_jsonata(value)) and not is_timestamp(value):
            chk.schema(
                pointer(path, "Timestamp"),
                f"Field 'Timestamp' {where} must be an RFC 3339 timestamp such as "
                f"'2025-06-01T12:00:00Z', got {show(value)}",
            )
    if ctx.language == JSONPATH:
        check_path(chk, state, "SecondsPath", path, where, REFERENCE)
        check_path(chk, state, "TimestampPath", path, where, REFERENCE)
    return []


def check_succeed(
    chk: Checker, state: Mapping[str, Any], ctx: StateContext
) -> list[Transition]:
    """Succeed: nothing beyond the allowed fields."""
    return []


def check_fail(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> list[Transition]:
    """Fail: Error/ErrorPath and Cause/CausePath pairs are exclusive; paths or intrinsics."""
    where, path = ctx.where, ctx.path
    for literal in ("Error", "Cause"):
        exclusive(chk, state, literal, literal + "Path", path, where)
        if literal in state:
            expect_string(chk, state[literal], pointer(path, literal), literal, where,
                          non_empty=False)
        if ctx.language == JSONPATH:
            check_path(chk, state, literal + "Path", path, where, FAIL)
    check_error_name(chk, state.get("Error"), pointer(path, "Error"), "Error", where)
    return []


def check_parallel(
    chk: Checker, state: Mapping[str, Any], ctx: StateContext
) -> list[Transition]:
    """Parallel: ``Branches`` is a non-empty array of self-contained ``{StartAt, States}``."""
    from orchestrator.asl._validate import validate_scope

    where, path = ctx.where, ctx.path
    if "Branches" not in state:
        chk.schema(path, f"Missing required field 'Branches' {where}")
    else:
        branches = state["Branches"]
        here = pointer(path, "Branches")
        if not isinstance(branches, list) or not branches:
            chk.schema(
                here, f"Field 'Branches' {where} must be a non-empty array, got {show(branches)}"
            )
        else:
            for index, branch in enumerate(branches):
                validate_scope(chk, branch, pointer(here, index), ctx.machine_type,
                               f"branch {index} {where}", _BRANCH_FIELDS)
    return check_retry_catch(chk, state, ctx)


_BRANCH_FIELDS = frozenset({"StartAt", "States", "Comment"})


def check_retry_catch(
    chk: Checker, state: Mapping[str, Any], ctx: StateContext
) -> list[Transition]:
    """Retry and Catch of a Task, Parallel or Map; returns the catchers' transitions."""
    if "Retry" in state:
        check_retry(chk, state["Retry"], pointer(ctx.path, "Retry"), ctx.where)
    if "Catch" in state:
        return check_catch(chk, state["Catch"], pointer(ctx.path, "Catch"), ctx.where,
                           ctx.language)
    return []


def is_timestamp(value: Any) -> bool:
    """True for a timestamp ASL accepts (RFC 3339 with uppercase T and Z or an offset)."""
    if not isinstance(value, str):
        return False
    try:
        from orchestrator.asl._timestamps import parse_timestamp
    except ImportError:
        return _TIMESTAMP.fullmatch(value) is not None
    try:
        return parse_timestamp(value) is not None
    except (ValueError, OverflowError):
        return False


_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
)

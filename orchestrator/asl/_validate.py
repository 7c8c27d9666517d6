"""Definition validation: every reason AWS would reject a state machine definition.

:func:`validate_definition` walks the whole definition once and returns every problem, each
located by a JSON Pointer and coded with AWS's ValidateStateMachineDefinition codes
(``INVALID_JSON_DESCRIPTION``, ``SCHEMA_VALIDATION_FAILED``, ``MISSING_TRANSITION_TARGET``,
``MISSING_END_STATE``, ``DUPLICATE_STATE_NAME``, ``INVALID_STATE_NAME``,
``DUPLICATE_LABEL_NAME``, ``INVALID_LABEL_NAME``, ``INVALID_RESOURCE``,
``TOO_DEEPLY_NESTED``).

Graph rules, as AWS reports them (recorded diagnostics):

- A ``Next``/``Default``/``Catch[].Next``/``StartAt`` naming no state of its own scope is
  ``MISSING_TRANSITION_TARGET`` with message ``Missing 'Next' target: <name>``.
- A state nothing routes to is ``MISSING_TRANSITION_TARGET`` with message
  ``State "<name>" is not reachable.`` at the state.
- A scope without any terminal state (Succeed, Fail, ``End: true``) is ``MISSING_END_STATE``
  ``Workflow has no terminal state`` (no location at the top level); it suppresses the
  reachability check of that scope, as AWS does.
- Each nested scope (Parallel branch, Map ItemProcessor/Iterator) is self-contained: its
  transitions only reach its own states. State names are unique in the whole definition.

Decisions (unverified): duplicate keys in JSON text are problems (``DUPLICATE_STATE_NAME``
inside a ``States`` object, ``SCHEMA_VALIDATION_FAILED`` elsewhere) although plain JSON
parsers keep the last value; ``NaN``/``Infinity`` literals are invalid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orchestrator.asl._validate_choice import check_choice
from orchestrator.asl._validate_fields import (
    DUPLICATE_STATE,
    INVALID_JSON,
    INVALID_STATE_NAME,
    JSONATA,
    MAX_SECONDS,
    MISSING_DESCRIPTION,
    MISSING_END,
    MISSING_TARGET,
    QUERY_LANGUAGES,
    Checker,
    check_fields,
    expect_enum,
    expect_int,
    expect_string,
    pointer,
    show,
)
from orchestrator.asl._validate_jsonata import check_states_variable
from orchestrator.asl._validate_map import check_map
from orchestrator.asl._validate_retry import Transition
from orchestrator.asl._validate_variables import check_variable_scopes
from orchestrator.asl._validate_states import (
    FIELDS,
    TRANSITIONING,
    StateContext,
    StateValidator,
    check_common,
    check_fail,
    check_fields_for_language,
    check_parallel,
    check_pass,
    check_succeed,
    check_task,
    check_wait,
    state_language,
)
from orchestrator.asl.errors import DefinitionProblem

_TOP_FIELDS = frozenset({"StartAt", "States", "Comment", "Version", "TimeoutSeconds",
                         "QueryLanguage"})
_VALIDATORS: dict[str, StateValidator] = {
    "Pass": check_pass,
    "Task": check_task,
    "Choice": check_choice,
    "Wait": check_wait,
    "Succeed": check_succeed,
    "Fail": check_fail,
    "Parallel": check_parallel,
    "Map": check_map,
}
_MACHINE_TYPES = ("STANDARD", "EXPRESS")
TOO_DEEPLY_NESTED = "TOO_DEEPLY_NESTED"
#: Longest state name AWS accepts.
MAX_STATE_NAME = 80


def validate_definition(
    definition: str | Mapping[str, Any], *, machine_type: str = "STANDARD"
) -> list[DefinitionProblem]:
    """Every problem that makes ``definition`` a definition AWS would reject.

    Args:
        definition: the definition as JSON text or as an already parsed mapping.
        machine_type: ``STANDARD`` or ``EXPRESS``; Distributed Maps need ``STANDARD``.

    Returns:
        The problems in document order; an empty list means the definition is valid.

    Raises:
        ValueError: ``machine_type`` is neither STANDARD nor EXPRESS.
    """
    if machine_type not in _MACHINE_TYPES:
        raise ValueError(f"machine_type must be STANDARD or EXPRESS, got {machine_type!r}")
    chk = Checker()
    try:
        _validate_document(chk, definition, machine_type)
    except RecursionError:
        # Python's recursion limit stands in for AWS's nesting limit (value not documented).
        chk.add("", TOO_DEEPLY_NESTED, "The definition is nested too deeply")
    return chk.problems


def _validate_document(
    chk: Checker, definition: str | Mapping[str, Any], machine_type: str
) -> None:
    if isinstance(definition, str):
        parsed = _parse(chk, definition)
        if parsed is None:
            return
        document: Any = parsed
    else:
        document = definition
    if not isinstance(document, Mapping):
        chk.schema("", f"The definition must be a JSON object, got {show(document)}")
        return
    _validate_top(chk, document, machine_type)
    check_variable_scopes(chk, document)


def _parse(chk: Checker, text: str) -> Any:
    """JSON text -> document, reporting syntax errors and duplicate keys; None on failure."""
    if not text.strip():
        chk.add("", MISSING_DESCRIPTION, "The definition is empty")
        return None
    duplicates: dict[int, list[str]] = {}

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                duplicates.setdefault(id(obj), []).append(key)
            obj[key] = value
        return obj

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        document = json.loads(text, object_pairs_hook=pairs_hook,
                              parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        chk.add("", INVALID_JSON,
                f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        return None
    except ValueError as exc:
        chk.add("", INVALID_JSON, f"Invalid JSON: {exc}")
        return None
    if duplicates:
        _report_duplicates(chk, document, "", None, duplicates)
    return document


def _report_duplicates(
    chk: Checker, value: Any, path: str, parent_key: str | None, duplicates: dict[int, list[str]]
) -> None:
    if isinstance(value, dict):
        for key in duplicates.get(id(value), ()):
            if parent_key == "States":
                chk.add(pointer(path, key), DUPLICATE_STATE, f"Duplicate State name: '{key}'")
            else:
                chk.schema(pointer(path, key), f"Field '{key}' appears more than once")
        for key, item in value.items():
            _report_duplicates(chk, item, pointer(path, key), key, duplicates)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _report_duplicates(chk, item, pointer(path, index), None, duplicates)


def _validate_top(chk: Checker, document: Mapping[str, Any], machine_type: str) -> None:
    where = "of the state machine"
    if "QueryLanguage" in document:
        language = document["QueryLanguage"]
        if expect_enum(chk, language, "/QueryLanguage", "QueryLanguage", where,
                       QUERY_LANGUAGES):
            chk.query_language = language
    if "Comment" in document:
        expect_string(chk, document["Comment"], "/Comment", "Comment", where, non_empty=False)
    if "Version" in document:
        expect_string(chk, document["Version"], "/Version", "Version", where)
    if "TimeoutSeconds" in document:
        expect_int(chk, document["TimeoutSeconds"], "/TimeoutSeconds", "TimeoutSeconds", where,
                   low=1, high=MAX_SECONDS)
    validate_scope(chk, document, "", machine_type, where, _TOP_FIELDS)


def validate_scope(
    chk: Checker,
    scope: Any,
    path: str,
    machine_type: str,
    where: str,
    allowed: frozenset[str],
) -> None:
    """Validate a self-contained ``{StartAt, States}`` scope and its transition graph.

    Args:
        chk: the problem collector.
        scope: the scope object (top level, Parallel branch, Map ItemProcessor/Iterator).
        path: pointer of ``scope``.
        machine_type: STANDARD or EXPRESS for the workflow that runs this scope.
        where: owner clause for messages (``of the state machine``, ``branch 0 of ...``).
        allowed: the fields the scope object may have.
    """
    if not isinstance(scope, Mapping):
        chk.schema(path, f"The scope {where} must be an object with 'StartAt' and 'States', "
                   f"got {show(scope)}")
        return
    check_fields(chk, scope, path, allowed)
    start_at = scope.get("StartAt")
    if "StartAt" not in scope:
        chk.schema(path, f"Missing required field 'StartAt' {where}")
    elif not expect_string(chk, start_at, pointer(path, "StartAt"), "StartAt", where):
        start_at = None
    states = scope.get("States")
    if "States" not in scope:
        chk.schema(path, f"Missing required field 'States' {where}")
        return
    if not isinstance(states, Mapping) or not states:
        chk.schema(pointer(path, "States"),
                   f"Field 'States' {where} must be a non-empty object, got {show(states)}")
        return
    edges: dict[str, list[Transition]] = {}
    has_terminal = False
    for name, state in states.items():
        state_path = pointer(path, "States", name)
        _check_state_name(chk, name, state_path)
        transitions, terminal = _validate_state(chk, state, state_path, name, machine_type)
        edges[name] = transitions
        has_terminal = has_terminal or terminal
    if isinstance(start_at, str) and start_at not in states:
        chk.add(pointer(path, "StartAt"), MISSING_TARGET, f"Missing 'Next' target: {start_at}")
        start_at = None
    for transitions in edges.values():
        for target, where_from in transitions:
            if target not in states:
                chk.add(where_from, MISSING_TARGET, f"Missing 'Next' target: {target}")
    if not has_terminal:
        chk.add(path, MISSING_END, "Workflow has no terminal state")
        return
    if start_at is None:
        return
    reached = {start_at}
    todo = [start_at]
    while todo:
        for target, _ in edges.get(todo.pop(), ()):
            if target in states and target not in reached:
                reached.add(target)
                todo.append(target)
    for name in states:
        if name not in reached:
            chk.add(pointer(path, "States", name), MISSING_TARGET,
                    f'State "{name}" is not reachable.')


def _check_state_name(chk: Checker, name: Any, path: str) -> None:
    if not isinstance(name, str):  # only possible for a mapping built in Python
        chk.add(path, INVALID_STATE_NAME, f"State name {name!r} must be a string")
        return
    if not 1 <= len(name) <= MAX_STATE_NAME:
        chk.add(path, INVALID_STATE_NAME,
                f"State name {show(name)} must be 1 to {MAX_STATE_NAME} characters long, "
                f"got {len(name)}")
    first = chk.state_names.get(name)
    if first is None:
        chk.state_names[name] = path
    else:
        chk.add(path, DUPLICATE_STATE,
                f"Duplicate State name: '{name}' (also declared at {first})")


def _validate_state(
    chk: Checker, state: Any, path: str, name: str, machine_type: str
) -> tuple[list[Transition], bool]:
    """Validate one state; returns its transitions and whether it can end the workflow.

    A state too broken to type counts as terminal so that it does not also trigger
    MISSING_END_STATE.
    """
    where = f"of state '{name}'"
    if not isinstance(state, Mapping):
        chk.schema(path, f"State '{name}' must be an object, got {show(state)}")
        return [], True
    if "Type" not in state:
        chk.schema(path, f"Missing required field 'Type' {where}")
        return [], True
    state_type = state["Type"]
    if not isinstance(state_type, str) or state_type not in FIELDS:
        expect_enum(chk, state_type, pointer(path, "Type"), "Type", where, tuple(FIELDS))
        return [], True
    language = state_language(chk, state, path)
    bad = check_fields_for_language(chk, state, path, state_type, language)
    view = {k: v for k, v in state.items() if k not in bad} if bad else state
    ctx = StateContext(name, path, language, machine_type)
    check_common(chk, view, ctx)
    if language == JSONATA:
        check_states_variable(chk, view, path, ctx.where)
    transitions: list[Transition] = []
    terminal = state_type in ("Succeed", "Fail")
    if state_type in TRANSITIONING:
        has_next, has_end = "Next" in view, "End" in view
        if has_end and view["End"] is not True:
            chk.schema(pointer(path, "End"),
                       f"Field 'End' {where} must be true, got {show(view['End'])}")
        if has_next and has_end:
            chk.schema(path, f"State '{name}' must have either 'Next' or 'End', not both")
        elif not has_next and not has_end:
            chk.schema(path, f"State '{name}' must have either 'Next' or 'End': true")
        if has_next and expect_string(chk, view["Next"], pointer(path, "Next"), "Next", where):
            transitions.append((view["Next"], pointer(path, "Next")))
        terminal = has_end and view["End"] is True
    transitions.extend(_VALIDATORS[state_type](chk, view, ctx))
    return transitions, terminal


__all__ = ["validate_definition", "validate_scope"]

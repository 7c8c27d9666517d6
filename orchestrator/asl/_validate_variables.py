"""Definition checks of workflow variable scopes and of Task resources.

Variables (spec 5.6): Parallel branches and inline Map iterations run in inner scopes that
read the outer variables but cannot re-assign an outer name. The static part is checked here:
a name assigned (``Assign`` of a state, of a Choice rule or of a Catcher) inside an inner
scope must not be assigned anywhere in an enclosing scope. A Catcher of the Parallel/Map
itself writes to the enclosing scope, so its names belong there; a Parallel branch may still
assign a name that only that Parallel's own Catch assigns (observed on AWS). A Distributed Map's
ItemProcessor runs as separate child executions that see no outer variable: it starts a
fresh root scope.

Task ``Resource`` (AWS rejects a non-ARN Resource with SCHEMA_VALIDATION_FAILED). Decision on
strictness: any ``arn:<partition>:<service>:<region>:<account>:<resource>`` is accepted
(``<region>``/``<account>`` may be empty, as in ``arn:aws:states:::lambda:invoke``; the account
is 12 digits when given); two families are checked more closely because their shape is fixed:
Lambda (``arn:P:lambda:R:A:function:NAME[:QUALIFIER]``) and activities
(``arn:P:states:R:A:activity:NAME``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from orchestrator.asl._validate_fields import Checker, pointer, show

_ARN = re.compile(
    r"arn:(?P<partition>[a-z][a-z0-9-]*):(?P<service>[a-z0-9][a-z0-9-]*):"
    r"(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:(?P<resource>\S+)"
)
_LAMBDA_RESOURCE = re.compile(r"function:[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9_$-]{1,128})?")
_ACTIVITY_RESOURCE = re.compile(r"activity:[^\s:]{1,80}")


def resource_error(resource: str) -> str | None:
    """Why ``resource`` is not an acceptable Task Resource ARN; None when it is."""
    match = _ARN.fullmatch(resource)
    if match is None:
        return "must be an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)"
    service, region, account = match["service"], match["region"], match["account"]
    rest = match["resource"]
    if service == "lambda":
        if not region or account is None or not _LAMBDA_RESOURCE.fullmatch(rest):
            return (
                "must be a Lambda function ARN "
                "(arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>])"
            )
    elif service == "states" and (region or account is not None):
        if not region or account is None or not _ACTIVITY_RESOURCE.fullmatch(rest):
            return (
                "must be an activity ARN (arn:<partition>:states:<region>:<account>:"
                "activity:<name>) or a service integration (arn:<partition>:states:::...)"
            )
    return None


def check_resource(chk: Checker, resource: Any, path: str, where: str) -> None:
    """Report a Task Resource that is not an ARN of an accepted shape (string checked by
    the caller)."""
    if not isinstance(resource, str):
        return
    error = resource_error(resource)
    if error is not None:
        chk.schema(path, f"Field 'Resource' {where} {error}, got {show(resource)}")


def check_variable_scopes(chk: Checker, document: Mapping[str, Any]) -> None:
    """Report inner-scope Assigns that re-assign a name of an enclosing scope."""
    _check_scope(chk, document, "", frozenset())


def _check_scope(
    chk: Checker, machine: Any, path: str, outer: frozenset[str]
) -> None:
    states = machine.get("States") if isinstance(machine, Mapping) else None
    if not isinstance(states, Mapping):
        return
    mine = {name for _, name, _ in _assigns_of_scope(states, path)}
    if outer:
        for where, name, at in _assigns_of_scope(states, path):
            if name in outer:
                chk.schema(
                    at,
                    f"Variable '{name}' in 'Assign' {where} is already assigned in an "
                    "enclosing scope; a Parallel branch or Map iteration cannot re-assign it",
                )
    visible = outer | mine
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        here = pointer(path, "States", name)
        kind = state.get("Type")
        if kind == "Parallel" and isinstance(state.get("Branches"), list):
            own_catch = {n for _, n, at in _assigns_of_scope(states, path)
                         if at.startswith(pointer(here, "Catch") + "/")}
            elsewhere = {n for _, n, at in _assigns_of_scope(states, path)
                         if not at.startswith(pointer(here, "Catch") + "/")}
            branch_outer = outer | elsewhere | (own_catch & outer)
            for i, branch in enumerate(state["Branches"]):
                _check_scope(chk, branch, pointer(here, "Branches", i), branch_outer)
        elif kind == "Map":
            key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            processor = state.get(key)
            if isinstance(processor, Mapping):
                config = processor.get("ProcessorConfig")
                distributed = isinstance(config, Mapping) and config.get("Mode") == "DISTRIBUTED"
                inherited = frozenset() if distributed else visible
                _check_scope(chk, processor, pointer(here, key), inherited)


def _assigns_of_scope(
    states: Mapping[str, Any], path: str
) -> Iterator[tuple[str, str, str]]:
    """(owner clause, variable name, pointer of the Assign key) of every Assign in a scope."""
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        here = pointer(path, "States", name)
        where = f"of state '{name}'"
        yield from _names(state.get("Assign"), pointer(here, "Assign"), where)
        for key in ("Choices", "Catch"):
            entries = state.get(key)
            if isinstance(entries, list):
                for i, entry in enumerate(entries):
                    if isinstance(entry, Mapping):
                        yield from _names(
                            entry.get("Assign"), pointer(here, key, i, "Assign"), where
                        )


def _names(assign: Any, path: str, where: str) -> Iterator[tuple[str, str, str]]:
    if not isinstance(assign, Mapping):
        return
    for key in assign:
        if isinstance(key, str):
            name = key[:-2] if key.endswith(".$") else key
            yield where, name, pointer(path, key)


__all__ = ["check_resource", "check_variable_scopes", "resource_error"]

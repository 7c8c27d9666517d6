"""Shared building blocks of definition validation: the problem collector and field checks.

Every check appends a :class:`~orchestrator.asl.errors.DefinitionProblem` to a
:class:`Checker` and never raises, so one pass reports every problem of a definition.
Locations are RFC 6901 JSON Pointers (``/States/My~1State/Next``).

Diagnostic codes are AWS's ValidateStateMachineDefinition codes. Where AWS's wording is
known from recorded diagnostics it is reused verbatim (``Field 'X' is not supported``, the
QueryLanguage messages, ``Missing 'Next' target: X``); other messages follow the pattern
``Field 'F' of state 'S' must be <expected>, got <value>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.asl.errors import DefinitionProblem

INVALID_JSON = "INVALID_JSON_DESCRIPTION"
MISSING_DESCRIPTION = "MISSING_DESCRIPTION"
SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END = "MISSING_END_STATE"
DUPLICATE_STATE = "DUPLICATE_STATE_NAME"
INVALID_STATE_NAME = "INVALID_STATE_NAME"
DUPLICATE_LABEL = "DUPLICATE_LABEL_NAME"
INVALID_LABEL = "INVALID_LABEL_NAME"
INVALID_RESOURCE = "INVALID_RESOURCE"

JSONPATH = "JSONPath"
JSONATA = "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)

#: Upper bound of most ASL second/attempt counters (Retry, Wait, Task timeouts).
MAX_SECONDS = 99_999_999

# Kinds of path text a field accepts (see check_path_text).
PATH = "path"  # any JSONPath, context path or variable (InputPath, OutputPath)
REFERENCE = "reference"  # reference path, context path or variable (ItemsPath, ...Path fields)
RESULT = "result"  # reference path rooted at $ only (ResultPath: no context, no variables)
TEMPLATE = "template"  # value of a ".$" key: path, context path, variable or intrinsic
FAIL = "fail"  # Fail ErrorPath/CausePath: path or a string-returning intrinsic

#: Intrinsics AWS accepts in Fail ErrorPath/CausePath (spec 5.2).
FAIL_INTRINSICS = frozenset(
    {
        "States.Format",
        "States.JsonToString",
        "States.ArrayGetItem",
        "States.Base64Encode",
        "States.Base64Decode",
        "States.Hash",
        "States.UUID",
    }
)

_VARIABLE = re.compile(r"\$[^\W\d]\w*")
_C1 = re.compile("[\x7f-\x9f]")


def pointer(base: str, *parts: str | int) -> str:
    """Extend the JSON Pointer ``base`` with ``parts`` (RFC 6901 escaping of ``~`` and ``/``)."""
    out = base
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out


def show(value: Any) -> str:
    """The value as compact JSON for a message, shortened past 80 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    # JSON escapes C0 controls only; escape DEL and C1 controls too so messages stay readable.
    text = _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(value: Any) -> bool:
    """True for JSON integers (a bool is not a number in ASL)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for JSON numbers (a bool is not a number in ASL)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_jsonata(value: Any) -> bool:
    """True for a JSONata expression string: ``{%`` ... ``%}`` with nothing around (spec 5.6)."""
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


@dataclass(slots=True)
class Checker:
    """Collects problems while walking one definition, plus definition-wide facts.

    Attributes:
        problems: every problem found so far, in document order.
        query_language: the top-level QueryLanguage (states inherit it, spec 5.1).
        state_names: state name -> pointer of its first declaration (names are unique
            across the whole definition, nested scopes included).
        labels: Distributed Map label -> pointer of its first use (unique per definition).
    """

    problems: list[DefinitionProblem] = field(default_factory=list)
    query_language: str = JSONPATH
    state_names: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, code: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(DefinitionProblem(path, code, message))

    def schema(self, path: str, message: str) -> None:
        """Record a SCHEMA_VALIDATION_FAILED problem."""
        self.problems.append(DefinitionProblem(path, SCHEMA, message))


def owner_of(state: str | None) -> str:
    """How a message names the object that holds a field."""
    return "of the state machine" if state is None else f"of state '{state}'"


def check_fields(
    chk: Checker, obj: Mapping[str, Any], path: str, allowed: frozenset[str]
) -> None:
    """Report every key of ``obj`` that is not in ``allowed`` (AWS wording, at ``path``)."""
    for key in obj:
        if key not in allowed:
            chk.schema(path, f"Field '{key}' is not supported")


def require(
    chk: Checker, obj: Mapping[str, Any], key: str, path: str, where: str
) -> bool:
    """Report a missing required field; True when it is present."""
    if key in obj:
        return True
    chk.schema(path, f"Missing required field '{key}' {where}")
    return False


def exclusive(
    chk: Checker, obj: Mapping[str, Any], first: str, second: str, path: str, where: str
) -> None:
    """Report ``first`` and ``second`` given together (literal/``...Path`` pairs and the like)."""
    if first in obj and second in obj:
        chk.schema(path, f"Fields '{first}' and '{second}' {where} are mutually exclusive")


def expect_object(chk: Checker, value: Any, path: str, name: str, where: str) -> bool:
    """Report ``value`` unless it is a JSON object."""
    if isinstance(value, Mapping):
        return True
    chk.schema(path, f"Field '{name}' {where} must be an object, got {show(value)}")
    return False


def expect_string(
    chk: Checker, value: Any, path: str, name: str, where: str, *, non_empty: bool = True
) -> bool:
    """Report ``value`` unless it is a (non-empty) string."""
    if isinstance(value, str) and (value or not non_empty):
        return True
    what = "a non-empty string" if non_empty else "a string"
    chk.schema(path, f"Field '{name}' {where} must be {what}, got {show(value)}")
    return False


def expect_enum(
    chk: Checker, value: Any, path: str, name: str, where: str, choices: tuple[str, ...]
) -> bool:
    """Report ``value`` unless it is one of ``choices``."""
    if isinstance(value, str) and value in choices:
        return True
    options = " | ".join(choices)
    chk.schema(path, f"Field '{name}' {where} must be one of {options}, got {show(value)}")
    return False


def expect_int(
    chk: Checker,
    value: Any,
    path: str,
    name: str,
    where: str,
    *,
    low: int,
    high: int | None = None,
    jsonata: bool = False,
) -> bool:
    """Report ``value`` unless it is an integer in ``[low, high]`` (or JSONata if allowed)."""
    if jsonata and is_jsonata(value):
        return True
    if is_int(value) and value >= low and (high is None or value <= high):
        return True
    if high is not None:
        expected = f"an integer between {low} and {high}"
    elif low == 1:
        expected = "a positive integer"
    elif low == 0:
        expected = "a non-negative integer"
    else:
        expected = f"an integer >= {low}"
    chk.schema(path, f"Field '{name}' {where} must be {expected}, got {show(value)}")
    return False


def path_error(text: Any, kind: str) -> str | None:
    """Why ``text`` is not a valid path of ``kind``; None when it is valid.

    Syntax is checked with the expression compilers (``_paths``, ``_intrinsics``), imported
    lazily so that validation works, minus syntax checks, while they do not exist yet.
    """
    if not isinstance(text, str):
        return "must be a string"
    if kind in (TEMPLATE, FAIL) and text.startswith("States."):
        return _intrinsic_error(text, kind)
    if not text.startswith("$"):
        if kind == FAIL:
            return "must be a path starting with '$' or an intrinsic function"
        if kind == TEMPLATE:
            return "must be a path starting with '$' or an intrinsic function call"
        return "must be a path starting with '$'"
    body = text
    if text.startswith("$$"):
        if kind == RESULT:
            return "must be a reference path; the context object ($$) cannot be written"
        body = text[1:]  # a context path has the syntax of a path after the first '$'
    elif len(text) > 1 and text[1] not in ".[":
        match = _VARIABLE.match(text)
        if match is None:
            return "is not a valid path"
        if kind == RESULT:
            return "must be a reference path; variables cannot be written with ResultPath"
        body = "$" + text[match.end() :]
    try:
        from orchestrator.asl._paths import compile_path, compile_reference_path
    except ImportError:
        return None
    try:
        if kind in (REFERENCE, RESULT):
            compile_reference_path(body)
        else:
            compile_path(body)
    except Exception as exc:  # jsonpath_ng raises several exception types
        return f"is invalid: {exc}"
    return None


def _intrinsic_error(text: str, kind: str) -> str | None:
    name = text.split("(", 1)[0].strip()
    if kind == FAIL and name not in FAIL_INTRINSICS:
        allowed = ", ".join(sorted(FAIL_INTRINSICS))
        return f"uses intrinsic '{name}', which is not allowed here (allowed: {allowed})"
    try:
        from orchestrator.asl._intrinsics import compile_intrinsic
    except ImportError:
        return None
    try:
        compile_intrinsic(text)
    except Exception as exc:
        return f"is not a valid intrinsic function call: {exc}"
    return None


def check_path(
    chk: Checker, obj: Mapping[str, Any], key: str, path: str, where: str, kind: str,
    *, nullable: bool = False,
) -> None:
    """Check the path field ``key`` of ``obj`` (if present)."""
    if key not in obj:
        return
    value = obj[key]
    if value is None and nullable:
        return
    error = path_error(value, kind)
    if error is not None:
        chk.schema(pointer(path, key), f"Field '{key}' {where} {error}, got {show(value)}")


def check_template(chk: Checker, value: Any, path: str, name: str, where: str) -> None:
    """Check a JSONPath payload template: every ``.$`` key holds a valid path or intrinsic.

    Args:
        value: the template (any JSON; objects and arrays are walked recursively).
        path: pointer of ``value``.
        name: the template's field name (Parameters, ItemSelector, ...), for messages.
        where: the owner clause for messages.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = pointer(path, key)
            if isinstance(key, str) and key.endswith(".$"):
                error = path_error(item, TEMPLATE)
                if error is not None:
                    chk.schema(
                        here, f"Field '{key}' in '{name}' {where} {error}, got {show(item)}"
                    )
            else:
                check_template(chk, item, here, name, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_template(chk, item, pointer(path, index), name, where)


def check_payload(
    chk: Checker, obj: Mapping[str, Any], key: str, path: str, where: str, *,
    must_be_object: bool = False,
) -> None:
    """Check the payload-template field ``key`` of ``obj`` (if present)."""
    if key not in obj:
        return
    value = obj[key]
    here = pointer(path, key)
    if must_be_object and not expect_object(chk, value, here, key, where):
        return
    check_template(chk, value, here, key, where)


def check_error_name(chk: Checker, value: Any, path: str, field_name: str, where: str) -> None:
    """Report a custom error name that uses the reserved ``States.`` prefix (spec 4.1)."""
    from orchestrator.asl.errors import is_reserved_name

    if isinstance(value, str) and value.startswith("States.") and not is_reserved_name(value):
        chk.schema(
            path,
            f"Field '{field_name}' {where} uses unknown reserved error name {show(value)}; "
            "custom error names must not start with 'States.'",
        )


#: Longest variable name (spec 5.6).
MAX_VARIABLE_NAME = 80
RESERVED_VARIABLE = "states"


def check_assign(chk: Checker, value: Any, path: str, where: str, language: str) -> None:
    """Check an ``Assign`` object: variable names, and in JSONPath its ``.$`` values.

    Names follow Unicode identifier rules (ID_Start + ID_Continue, ``_`` allowed first), at
    most 80 characters, no dots (no partial assignment). ``states`` is reserved: it names
    the ``$states`` variable Step Functions itself binds in JSONata states (*unverified*
    for JSONPath states; rejected in both, the safer choice, as ``$states`` could not be
    read back by a JSONata state otherwise). In JSONPath a key ``name.$`` takes a path or
    intrinsic like a payload template.
    """
    if not expect_object(chk, value, path, "Assign", where):
        return
    for key, item in value.items():
        here = pointer(path, key)
        key = str(key)
        dynamic = language == JSONPATH and key.endswith(".$")
        name = key[:-2] if dynamic else key
        if not name.isidentifier() or len(name) > MAX_VARIABLE_NAME:
            chk.schema(
                here,
                f"Variable name {show(name)} in 'Assign' {where} must be an identifier of at "
                f"most {MAX_VARIABLE_NAME} characters (letters, digits, '_'; no dots)",
            )
        elif name == RESERVED_VARIABLE:
            chk.schema(
                here,
                f"Variable name 'states' in 'Assign' {where} is reserved: Step Functions "
                "binds $states itself",
            )
        elif dynamic:
            error = path_error(item, TEMPLATE)
            if error is not None:
                chk.schema(here, f"Field '{key}' in 'Assign' {where} {error}, got {show(item)}")
        elif language == JSONPATH:
            check_template(chk, item, here, "Assign", where)

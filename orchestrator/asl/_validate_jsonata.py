"""Definition check of the ``$states`` parts a JSONata state's fields may read (spec 5.6).

``$states.input`` and ``$states.context`` are available in every field. ``$states.result``
exists only once a Task, Parallel or Map has a result, so only their ``Output`` and
``Assign`` may read it; ``$states.errorOutput`` only a Catcher's ``Output`` and ``Assign``.
AWS reports a misplaced one when the definition is created; the message wording is
stepmap's (decision), in the pattern of the other field messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from orchestrator.asl._validate_fields import Checker, is_jsonata, pointer

_PART = re.compile(r"\$states\s*\.\s*(result|errorOutput)\b")
_WITH_RESULT = frozenset({"Task", "Parallel", "Map"})
#: Fields that hold nested states or no expressions: not walked here.
_SKIP = frozenset({"Type", "Comment", "QueryLanguage", "Next", "End", "Branches",
                   "ItemProcessor", "Iterator", "Catch", "Retry", "Resource", "Default",
                   "Choices"})


def _expressions(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if is_jsonata(value):
        yield value, path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _expressions(item, pointer(path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _expressions(item, pointer(path, i))


def _check(chk: Checker, field: str, value: Any, path: str, where: str,
           allowed: frozenset[str]) -> None:
    for text, at in _expressions(value, path):
        for part in sorted(set(_PART.findall(text)) - allowed):
            chk.schema(at, f"Field '{field}' {where} uses '$states.{part}', which is not "
                           "available in this field")


def check_states_variable(chk: Checker, state: Mapping[str, Any], path: str, where: str) -> None:
    """Report ``$states.result`` / ``$states.errorOutput`` used where they do not exist."""
    kind = state.get("Type")
    for field, value in state.items():
        if field in _SKIP:
            continue
        allowed = (frozenset({"result"}) if kind in _WITH_RESULT and field in ("Output", "Assign")
                   else frozenset())
        _check(chk, field, value, pointer(path, field), where, allowed)
    choices, catchers = state.get("Choices"), state.get("Catch")
    for i, rule in enumerate(choices if isinstance(choices, list) else ()):
        if isinstance(rule, Mapping):
            for field in ("Condition", "Assign", "Output"):
                if field in rule:
                    _check(chk, field, rule[field], pointer(path, "Choices", i, field), where,
                           frozenset())
    for i, catcher in enumerate(catchers if isinstance(catchers, list) else ()):
        if isinstance(catcher, Mapping):
            for field in ("Assign", "Output"):
                if field in catcher:
                    _check(chk, field, catcher[field], pointer(path, "Catch", i, field), where,
                           frozenset({"errorOutput"}))


__all__ = ["check_states_variable"]

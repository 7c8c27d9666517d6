"""Workflow variables of JSONPath states (spec 5.6): scopes, Assign, size limits.

A scope is a mapping of variable name to JSON value. The execution's top level has a plain
dict; each Parallel branch and each inline Map iteration runs in a child scope (a ChainMap
whose first map holds the child's own variables), so it reads the outer variables and its
writes stay local: siblings never see each other's variables, and the outer scope never
sees them. Distributed Map children are separate executions with a fresh, empty scope.

Assign (spec 5.6): every right-hand side is evaluated against the values at state entry,
then all are written at once; they are visible from the next state. The interpreter only
ever touches this module for states that have an ``Assign`` (or a Catch/Choice rule with
one), so machines without variables pay nothing per state.

Limits (spec 6): one variable <= 256 KiB, one Assign <= 256 KiB in total, all variables of
an execution <= 10 MiB, each measured as the UTF-8 size of the compact JSON value (what
``assignedVariables`` shows). Decision (unverified): exceeding one fails the state with
``States.DataLimitExceeded`` (the error AWS uses for every other payload size limit), with
the causes written below.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from typing import Any

from orchestrator.asl._io import compact
from orchestrator.asl.errors import DataLimitExceeded, StatesError

#: Largest single variable, in bytes (spec 6).
MAX_VARIABLE_BYTES = 256 * 1024
#: Largest total of one Assign, in bytes (spec 6).
MAX_ASSIGN_BYTES = 256 * 1024
#: Largest total of all variables of an execution, in bytes (spec 6).
MAX_EXECUTION_VARIABLE_BYTES = 10 * 1024 * 1024


class Variables:
    """The variable scopes of one execution run and the byte accounting behind the limits.

    Attributes:
        current: the scope the running state reads and writes (put into the context
            mapping under ``VARIABLES_KEY``).
    """

    __slots__ = ("current", "_sizes", "_total", "_saved")

    def __init__(self) -> None:
        self.current: MutableMapping[str, Any] = {}
        self._sizes: dict[str, int] = {}
        self._total = 0
        self._saved: list[tuple[MutableMapping[str, Any], dict[str, int]]] = []

    def enter_child(self) -> None:
        """Start a child scope (a Parallel branch or an inline Map iteration)."""
        self._saved.append((self.current, self._sizes))
        self.current = ChainMap({}, self.current)
        self._sizes = {}

    def leave_child(self) -> None:
        """Drop the innermost child scope and its variables."""
        self._total -= sum(self._sizes.values())
        self.current, self._sizes = self._saved.pop()

    def commit(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Write the evaluated right-hand sides of one Assign into the current scope.

        Returns:
            ``{name: compact JSON}`` of what was assigned (``assignedVariables``).

        Raises:
            DataLimitExceeded: a variable, the Assign or the execution's variables are over
                their size limit (nothing is written then).
        """
        serialized = {name: compact(value) for name, value in values.items()}
        sizes = {name: _utf8_size(text) for name, text in serialized.items()}
        for name, size in sizes.items():
            if size > MAX_VARIABLE_BYTES:
                raise variable_limit(
                    f"The variable '{name}' has a size of {size} bytes, which exceeds the "
                    f"maximum of {MAX_VARIABLE_BYTES} bytes."
                )
        assign_size = sum(sizes.values())
        if assign_size > MAX_ASSIGN_BYTES:
            raise variable_limit(
                f"The variables assigned by this state have a total size of {assign_size} "
                f"bytes, which exceeds the maximum of {MAX_ASSIGN_BYTES} bytes."
            )
        own = self._sizes
        total = self._total + assign_size - sum(own.get(name, 0) for name in sizes)
        if total > MAX_EXECUTION_VARIABLE_BYTES:
            raise variable_limit(
                f"The variables of this execution would have a total size of {total} bytes, "
                f"which exceeds the maximum of {MAX_EXECUTION_VARIABLE_BYTES} bytes."
            )
        self._total = total
        own.update(sizes)
        self.current.update(values)
        return serialized

    @property
    def total_bytes(self) -> int:
        """Size of every variable currently held (all live scopes)."""
        return self._total


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def variable_limit(cause: str) -> StatesError:
    """The error of a variable size limit (decision, see the module docstring)."""
    return DataLimitExceeded(cause)


__all__ = [
    "MAX_ASSIGN_BYTES",
    "MAX_EXECUTION_VARIABLE_BYTES",
    "MAX_VARIABLE_BYTES",
    "Variables",
    "variable_limit",
]

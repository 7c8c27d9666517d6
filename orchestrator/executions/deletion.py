"""DeleteStateMachine while executions run: the machine is DELETING until the last one ends.

A state machine with RUNNING executions is marked ``DELETING`` (it accepts no new execution
and its name cannot be reused); whoever ends the last of them (the control plane when an
execution closes, the API on StopExecution) removes the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from orchestrator.executions.family import FamilyRecords, delete_family
from orchestrator.statuses import ExecutionStatus


class MachineRecords(Protocol):
    """The part of the store this needs (a ``StateStore`` has it)."""

    def get_state_machine(self, arn: str) -> dict[str, Any] | None: ...
    def delete_state_machine(self, arn: str) -> None: ...
    def iter_executions(self, state_machine_arn: str) -> Iterator[tuple[Any, dict[str, Any]]]: ...


def has_running_executions(store: MachineRecords, state_machine_arn: str) -> bool:
    """Whether any execution of the state machine is still RUNNING."""
    return any(r.get("status") == ExecutionStatus.RUNNING
               for _, r in store.iter_executions(state_machine_arn))


def finish_deleting(store: MachineRecords, state_machine_arn: str) -> bool:
    """Remove a DELETING state machine once none of its executions runs; True if removed."""
    machine = store.get_state_machine(state_machine_arn)
    if machine is None or machine.get("status") != "DELETING":
        return False
    if has_running_executions(store, state_machine_arn):
        return False
    store.delete_state_machine(state_machine_arn)
    if isinstance(store, FamilyRecords):  # the revision snapshots the executions ran
        delete_family(store, state_machine_arn)
    return True

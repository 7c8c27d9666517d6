"""What StartExecution runs: the machine, a version, or a version an alias routes to.

The execution records the unqualified ``stateMachineArn`` (its ARN is built from the machine
name), plus ``stateMachineVersionArn`` / ``stateMachineAliasArn`` when started through them,
and the internal ``definitionArn``: the snapshot of the revision it runs (see :mod:`family`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.executions import arns, family, qualified
from orchestrator.executions.aliases import choose_version
from orchestrator.executions.errors import (
    ResourceNotFound,
    StateMachineDeleting,
    StateMachineDoesNotExist,
    ValidationException,
)
from orchestrator.store.base import StateStore


@dataclass(frozen=True, slots=True)
class StartTarget:
    """Resolved target of a StartExecution.

    Attributes:
        machine: the unqualified state machine record.
        source: the record whose configuration runs (the machine or a version).
        version_arn: the version run, when started on a version or an alias.
        alias_arn: the alias started on, if any.
    """

    machine: dict[str, Any]
    source: dict[str, Any]
    version_arn: str | None = None
    alias_arn: str | None = None

    def execution_fields(self, store: StateStore) -> dict[str, Any]:
        """The fields a new execution record gets from its target (snapshot stored if new)."""
        base = self.machine["stateMachineArn"]
        return {
            "stateMachineArn": base,
            "stateMachineVersionArn": self.version_arn,
            "stateMachineAliasArn": self.alias_arn,
            family.DEFINITION_ARN: family.ensure_snapshot(store, base, self.source),
        }


def resolve(
    store: StateStore, given: str, machine_of: Callable[[str], dict[str, Any]]
) -> StartTarget:
    """The target of StartExecution on ``given`` (unqualified, version or alias ARN).

    Raises:
        ValidationException: a Distributed Map labelled ARN.
        StateMachineDoesNotExist: unknown machine or version.
        ResourceNotFound: unknown alias.
        StateMachineDeleting: the machine is being deleted.
    """
    if not qualified.is_qualified(given):
        ref = arns.parse_state_machine_arn(given)
        if ref.label is not None:
            raise ValidationException(
                f"Labelled state machine ARNs are not supported by StartExecution: '{given}'",
                reason="API_DOES_NOT_SUPPORT_LABELED_ARNS",
            )
        machine = _active(machine_of(ref.arn))
        return StartTarget(machine, machine)
    target = qualified.parse(given)
    alias_arn: str | None = None
    version_arn = given
    if target.alias is not None:
        alias = store.get_state_machine(given)
        if alias is None or alias.get(family.KIND) != "alias":
            raise ResourceNotFound(f"Resource not found: '{given}'")
        alias_arn, version_arn = given, choose_version(alias["routingConfiguration"])
    version = store.get_state_machine(version_arn)
    if version is None or version.get(family.KIND) != "version":
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{version_arn}'")
    machine = _active(machine_of(target.base_arn))
    return StartTarget(machine, version, version_arn, alias_arn)


def _active(machine: dict[str, Any]) -> dict[str, Any]:
    if machine.get("status") == "DELETING":
        raise StateMachineDeleting(
            f"State machine is being deleted: '{machine['stateMachineArn']}'"
        )
    return machine

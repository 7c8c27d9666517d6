"""The records around a state machine: versions, aliases and revision snapshots.

They are stored as state machine records (so both stores keep them without a new key space),
marked with two internal fields that no response shows:

- ``kind``: ``version``, ``alias`` or ``revision``;
- ``baseArn``: the unqualified state machine they belong to.

A *revision snapshot* (``{base}#{revisionKey}``; ``#`` never occurs in a name) keeps the
definition an execution started with, so an ``UpdateStateMachine`` or a
``DeleteStateMachineVersion`` never changes what a running execution runs. Executions point
at their snapshot with the internal field ``definitionArn``, which the control plane reads.
Every state machine record carries the internal ``revisionKey`` (a fresh id at create and at
each update that changes something).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from orchestrator.store.base import StateStore

KIND = "kind"
BASE = "baseArn"
REVISION_KEY = "revisionKey"
DEFINITION_ARN = "definitionArn"
#: Fields copied from the machine into a version or a snapshot (what an execution runs).
CONFIGURATION = (
    "definition",
    "roleArn",
    "type",
    "loggingConfiguration",
    "tracingConfiguration",
    "encryptionConfiguration",
    "revisionId",
    REVISION_KEY,
)


def is_hidden(record: dict[str, Any]) -> bool:
    """Whether a state machine record is a version, alias or snapshot (not a machine)."""
    return KIND in record


def members(store: StateStore, base_arn: str, kind: str) -> Iterator[dict[str, Any]]:
    """The records of one kind that belong to ``base_arn`` (store order: oldest first)."""
    for _, record in store.iter_state_machines():
        if record.get(KIND) == kind and record.get(BASE) == base_arn:
            yield record


def snapshot_arn(base_arn: str, revision_key: str) -> str:
    """The ARN under which the snapshot of one revision is kept."""
    return f"{base_arn}#{revision_key}"


#: Snapshots this process stored or found (revision keys are never reused, so an ARN seen
#: once stays valid while its machine exists); bounded, cleared when full.
_KNOWN: set[str] = set()
_KNOWN_LIMIT = 10_000


def ensure_snapshot(store: StateStore, base_arn: str, source: dict[str, Any]) -> str | None:
    """The snapshot ARN of ``source``'s revision, stored first if missing.

    Returns ``None`` for records made before revision keys existed (they run from the
    machine record itself). A snapshot this process already stored is not sent again.
    """
    key = source.get(REVISION_KEY)
    if not key:
        return None
    arn = snapshot_arn(base_arn, str(key))
    if arn in _KNOWN:
        return arn
    record = {field: source[field] for field in CONFIGURATION if field in source}
    record.update(
        {
            "stateMachineArn": arn,
            "name": source["name"],
            "creationDate": source["creationDate"],
            KIND: "revision",
            BASE: base_arn,
        }
    )
    store.insert_state_machine(record)  # False when it exists: the same revision, same content
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.clear()
    _KNOWN.add(arn)
    return arn


@runtime_checkable
class FamilyRecords(Protocol):
    """The part of a store :func:`delete_family` needs."""

    def iter_state_machines(self) -> Iterator[tuple[Any, dict[str, Any]]]: ...
    def delete_state_machine(self, arn: str) -> None: ...


def delete_family(store: FamilyRecords, base_arn: str, *, keep_snapshots: bool = False) -> None:
    """Remove every version, alias and (unless ``keep_snapshots``) snapshot of ``base_arn``.

    Snapshots are kept while executions of the machine still run: they read them; the last
    one to end removes them with the machine (:func:`orchestrator.executions.deletion.finish_deleting`).
    """
    doomed = [
        record["stateMachineArn"]
        for _, record in store.iter_state_machines()
        if record.get(BASE) == base_arn and not (keep_snapshots and record.get(KIND) == "revision")
    ]
    for arn in doomed:
        store.delete_state_machine(arn)

"""The ``StateStore`` protocol: persistence of state machines, executions, history and tokens.

Records are plain dicts with the AWS camelCase field names (``stateMachineArn``, ``status``,
``startDate`` ...). Dates are epoch seconds (float). Setting a field to ``None`` in an update
removes it. Two implementations follow the same contract (tests/integration/store):
:class:`orchestrator.store.redis_store.RedisStore` and
:class:`orchestrator.store.memory_store.MemoryStore`.

History events are dicts in GetExecutionHistory shape (``timestamp``, ``type``, ``id``,
``previousEventId``, one details field). Positions in the history list are 0-based and stable:
events are only ever appended.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Protocol

#: Position in an ordered index: (score, member). Scores are creation/start times.
Cursor = tuple[float, str]

#: Fields of execution and state machine records that hold epoch-second floats.
DATE_FIELDS = frozenset({"creationDate", "startDate", "stopDate", "redriveDate", "updateDate"})
#: Fields that hold integers.
INT_FIELDS = frozenset({"redriveCount"})
#: Fields that hold JSON objects.
JSON_FIELDS = frozenset(
    {
        "loggingConfiguration",
        "tracingConfiguration",
        "encryptionConfiguration",
        "tags",
        "routingConfiguration",
        "syncCall",  # the .sync call a nested execution answers (control/nested.py)
    }
)


class StateStore(Protocol):
    """Everything the executions service and the control plane persist about executions."""

    def ping(self) -> bool:
        """Whether the backing store answers."""
        ...

    # -- state machines -------------------------------------------------------------------------

    def insert_state_machine(self, record: Mapping[str, Any]) -> bool:
        """Store a new state machine (``stateMachineArn``, ``creationDate`` required).

        Returns:
            ``False`` (and writes nothing) when a record with that ARN exists.
        """
        ...

    def get_state_machine(self, arn: str) -> dict[str, Any] | None:
        """The state machine record, or ``None``."""
        ...

    def update_state_machine(self, arn: str, fields: Mapping[str, Any]) -> None:
        """Set (or, for ``None`` values, remove) fields of an existing state machine record."""
        ...

    def delete_state_machine(self, arn: str) -> None:
        """Remove a state machine record and its index entry (its executions stay)."""
        ...

    def iter_state_machines(
        self, after: Cursor | None = None
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        """State machines oldest first, starting strictly after ``after``."""
        ...

    # -- executions -----------------------------------------------------------------------------

    def insert_execution(self, record: Mapping[str, Any]) -> bool:
        """Store a new execution (``executionArn``, ``stateMachineArn``, ``startDate`` required).

        Returns:
            ``False`` (and writes nothing) when an execution with that ARN exists.
        """
        ...

    def stale_open_executions(self, before: float, limit: int) -> list[str]:
        """Executions that may be RUNNING and were last looked at before ``before``.

        StartExecution and every transition to RUNNING (redrive) register an execution here
        before anything else, so one stranded by a killed process is found by the liveness
        sweep (docs/architecture.md invariant 11). The set is a superset: entries of ended
        executions are dropped by the sweep.
        """
        ...

    def touch_open_execution(self, arn: str, at: float) -> None:
        """Note that the sweep looked at ``arn`` at ``at`` (epoch seconds)."""
        ...

    def drop_open_execution(self, arn: str) -> None:
        """Forget an execution that is no longer RUNNING."""
        ...

    def get_execution(self, arn: str) -> dict[str, Any] | None:
        """The execution record, or ``None``."""
        ...

    def update_execution(self, arn: str, fields: Mapping[str, Any]) -> None:
        """Set (or, for ``None`` values, remove) fields of an existing execution record."""
        ...

    def transition_execution(
        self,
        arn: str,
        from_statuses: Collection[str],
        fields: Mapping[str, Any],
        event: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Atomically update an execution only if its status is one of ``from_statuses``.

        When ``event`` is given it is appended to the history in the same atomic step, with
        ``id`` = last id + 1 and ``previousEventId`` = last id (both assigned by the store).

        Returns:
            The updated record, or ``None`` when the execution is missing or in another status.
        """
        ...

    def iter_executions(
        self, state_machine_arn: str, after: Cursor | None = None
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        """Executions of one state machine newest first, starting strictly after ``after``."""
        ...

    # -- history --------------------------------------------------------------------------------

    def append_history(
        self, arn: str, events: Sequence[Mapping[str, Any]], *, require_status: str | None = None
    ) -> bool:
        """Append events (ids already set) to an execution's history.

        Args:
            arn: the execution ARN.
            events: the events, in id order.
            require_status: append only if the execution has this status (atomic check).

        Returns:
            ``False`` (nothing appended) when ``require_status`` did not hold.
        """
        ...

    def history_length(self, arn: str) -> int:
        """Number of events in the history."""
        ...

    def get_history(self, arn: str, start: int, stop: int) -> list[dict[str, Any]]:
        """Events at positions ``start <= position < stop`` (0-based, clipped to the list)."""
        ...

    # -- checkpoints ----------------------------------------------------------------------------

    def get_checkpoint(self, arn: str) -> str | None:
        """The engine checkpoint (JSON text) of a suspended execution, or ``None``."""
        ...

    def set_checkpoint(self, arn: str, checkpoint: str | None) -> None:
        """Store the checkpoint (JSON text); ``None`` forgets it."""
        ...

    # -- pagination tokens ----------------------------------------------------------------------

    def put_page_token(self, payload: Mapping[str, Any], ttl_seconds: int) -> str:
        """Store a pagination token payload; returns the opaque token."""
        ...

    def get_page_token(self, token: str) -> dict[str, Any] | None:
        """The payload of a live token, or ``None`` (unknown or expired)."""
        ...

"""The status vocabulary of executions, Map Runs and child executions, and one outcome rule.

Values are AWS's strings, so a status enum compares equal to the text stored in Redis, sent on
the wire or returned by the API. Nothing here does I/O; the wire contract and every layer above
it import these names instead of writing status literals.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine is imported where outcomes exist, not with the status names
    from orchestrator.asl import Failed, Succeeded


class ExecutionStatus(StrEnum):
    """Status of an execution (a parent, or a child hosted by the control plane)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


class MapRunStatus(StrEnum):
    """Status of a Map Run. ``CLOSING`` and ``QUEUED`` are internal: the API shows ``RUNNING``.

    ``QUEUED``: started, waiting in the admission backlog for a free open-Map-Run slot
    (stepmap extension; docs/extensions.md). It feeds and dispatches nothing until admitted.
    """

    RUNNING = "RUNNING"
    CLOSING = "CLOSING"
    QUEUED = "QUEUED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"

    @property
    def is_open(self) -> bool:
        """Whether the Map Run has not closed yet (RUNNING, CLOSING or QUEUED)."""
        return self in (MapRunStatus.RUNNING, MapRunStatus.CLOSING, MapRunStatus.QUEUED)

    @property
    def for_api(self) -> str:
        """The status DescribeMapRun shows (AWS's enum: RUNNING, SUCCEEDED, FAILED, ABORTED)."""
        return MapRunStatus.RUNNING.value if self.is_open else self.value


class ChildStatus(StrEnum):
    """What a child execution reports (``SUSPENDED``: handed over to the control plane)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    SUSPENDED = "SUSPENDED"


#: Terminal child statuses that a Map Run redrive runs again.
UNSUCCESSFUL: frozenset[ChildStatus] = frozenset(
    {ChildStatus.FAILED, ChildStatus.TIMED_OUT, ChildStatus.ABORTED}
)
#: Terminal child statuses (counted in a Map Run's counters).
TERMINAL: frozenset[ChildStatus] = UNSUCCESSFUL | {ChildStatus.SUCCEEDED}


def outcome_status(outcome: Succeeded | Failed) -> ChildStatus:
    """The terminal status of an ended execution: the one rule for parents and children.

    An execution that ran past its TimeoutSeconds is ``TIMED_OUT``; any other failure
    (including a Task's own ``States.Timeout``) is ``FAILED``.
    """
    from orchestrator.asl import Succeeded  # already imported: ``outcome`` comes from it

    if isinstance(outcome, Succeeded):
        return ChildStatus.SUCCEEDED
    return ChildStatus.TIMED_OUT if outcome.timed_out else ChildStatus.FAILED

"""Retriers and catchers (spec 4.3, 4.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.asl.errors import (
    ALL,
    DATA_LIMIT_EXCEEDED,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
)

if TYPE_CHECKING:
    from orchestrator.asl._jsonata import JsonataTemplate
    from orchestrator.asl._paths import ReferencePath
    from orchestrator.asl._template import Template


def error_matches(
    error_equals: tuple[str, ...], error: str, *, matched_by_all: bool = False
) -> bool:
    """Whether an ``ErrorEquals`` list matches ``error``.

    Decisions (spec 4.2): ``States.Runtime`` is never matched, not even by its own name
    (AWS: not retriable, not catchable; the execution fails). ``States.DataLimitExceeded``
    is matched only by its exact name, never by a wildcard, except when raised for an
    oversized Task result (``matched_by_all``, observed). ``States.ALL`` matches every
    other name; ``States.TaskFailed`` used as a matcher matches every other name except
    ``States.Timeout`` (AWS developer guide wording).
    """
    if error == RUNTIME:
        return False
    if error in error_equals:
        return True
    if error == DATA_LIMIT_EXCEEDED and not matched_by_all:
        return False
    if ALL in error_equals:
        return True
    return TASK_FAILED in error_equals and error != TIMEOUT


@dataclass(frozen=True, slots=True)
class Retrier:
    """One Retry entry: retries matching errors with exponential backoff.

    The n-th retry (1-based) waits ``min(IntervalSeconds * BackoffRate**(n-1), MaxDelaySeconds)``
    seconds, uniformly jittered in ``[0, delay]`` with ``JitterStrategy: FULL``; the retrier's
    counters live for the whole run of the state (MaxAttempts per error name, as in the AWS
    guide's complex retry scenario); ``MaxAttempts: 0`` never retries.
    """

    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: str = "NONE"

    def matches(self, error: str, *, matched_by_all: bool = False) -> bool:
        """Whether this retrier's ErrorEquals matches ``error``."""
        return error_matches(self.error_equals, error, matched_by_all=matched_by_all)

    def delay(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based), before jitter."""
        value = float(self.interval_seconds) * float(self.backoff_rate) ** (attempt - 1)
        if self.max_delay_seconds is not None and value > self.max_delay_seconds:
            value = float(self.max_delay_seconds)
        return value


@dataclass(frozen=True, slots=True)
class Catcher:
    """One Catch entry: on a matching error, put ``{"Error", "Cause"}`` into the raw state
    input at ``ResultPath`` (default ``$`` replaces it, ``null`` keeps the input) and go to Next.

    ``assign`` (spec 5.6) writes variables into the scope of the state that caught the error;
    in JSONPath its ``$`` is the error output ``{"Error", "Cause"}`` (decision, unverified).
    """

    error_equals: tuple[str, ...]
    next: str
    result_path: ReferencePath | None
    result_discard: bool = False
    assign: Template | JsonataTemplate | None = None
    output: JsonataTemplate | None = None

    def matches(self, error: str, *, matched_by_all: bool = False) -> bool:
        """Whether this catcher's ErrorEquals matches ``error``."""
        return error_matches(self.error_equals, error, matched_by_all=matched_by_all)

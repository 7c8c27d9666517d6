"""Outcomes of :func:`run_execution`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.asl._journal import Checkpoint
from orchestrator.asl.ports import Request


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The execution succeeded with ``output``; ``events`` are the new history events."""

    output: Any
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Failed:
    """The execution failed (``timed_out``: it ran past the machine's TimeoutSeconds).

    ``checkpoint`` is the journal at the failure, kept so that the execution can be redriven
    (:meth:`Checkpoint.for_redrive`).
    """

    error: str
    cause: str
    events: list[dict[str, Any]] = field(default_factory=list)
    timed_out: bool = False
    checkpoint: Checkpoint | None = None


@dataclass(frozen=True, slots=True)
class Suspended:
    """A port answered Pending: do ``request``, resolve ``checkpoint`` and run again.

    When branches or iterations wait (``checkpoint.pending`` is not empty), ``request`` is the
    first of their calls, ``fresh`` the keys of the calls handed out by this run (start
    those), and each answer goes in with ``checkpoint.answer(key, ...)``.
    """

    checkpoint: Checkpoint
    request: Request
    events: list[dict[str, Any]] = field(default_factory=list)
    fresh: tuple[str, ...] = ()


Outcome = Succeeded | Failed | Suspended

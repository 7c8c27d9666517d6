"""The state machine (or ItemProcessor / Parallel branch) model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.asl.model.map import MapState
    from orchestrator.asl.model.states import State


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A parsed state machine: ``StartAt``, ``States`` and the top-level options.

    Branches of a Parallel state and ItemProcessors of a Map state are StateMachines too.
    """

    start_at: str
    states: Mapping[str, State]
    timeout_seconds: int | None = None
    comment: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    query_language: str = "JSONPath"

    def distributed_maps(self) -> list[MapState]:
        """Every DISTRIBUTED Map state, at any depth (Parallel branches, inline processors)."""
        from orchestrator.asl.model.map import MapState
        from orchestrator.asl.model.states import ParallelState

        found: list[MapState] = []
        for state in self.states.values():
            if isinstance(state, MapState):
                if state.distributed:
                    found.append(state)
                found.extend(state.processor.distributed_maps())
            elif isinstance(state, ParallelState):
                for branch in state.branches:
                    found.extend(branch.distributed_maps())
        return found

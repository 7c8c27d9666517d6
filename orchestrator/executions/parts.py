"""What the lifecycle mixins need from :class:`~orchestrator.executions.service.StepFunctionsService`.

The mixins (:mod:`versions`, :mod:`aliases`, :mod:`tagging`) are mixed into the service; this
base names the attributes and methods they use, so each mixin type-checks on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.executions.pagination import PageTokens
from orchestrator.settings import Settings
from orchestrator.store.base import StateStore


class ServiceParts:
    """Attributes the service sets in ``__init__`` and helpers it defines."""

    store: StateStore
    settings: Settings
    _clock: Callable[[], float]
    _tokens: PageTokens

    def _machine(self, arn: str) -> dict[str, Any]:
        """The (unqualified) state machine record, or ``StateMachineDoesNotExist``."""
        raise NotImplementedError

    def _require_valid(self, definition: str, machine_type: str) -> None:
        """Raise ``InvalidDefinition`` listing every problem of ``definition``."""
        raise NotImplementedError

"""Whether a state machine can only run straight through: no state of it ever waits.

Pass, Choice, Succeed and Fail states (also inside inline Map and Parallel states) neither call
out nor sleep, so a child execution of such an ItemProcessor runs in microseconds and has no
effect outside its own execution. The Map Run packs such children many to a broker message
(``orchestrator/maprun/packing.py``), and a worker records their outcomes once per message
(``workers/runner.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: State types that never wait: no call out, no timer.
INSTANT_TYPES = frozenset({"Pass", "Choice", "Succeed", "Fail"})


def is_instant(definition: Mapping[str, Any]) -> bool:
    """Whether a state machine (an ItemProcessor) only has states that never wait."""
    states = definition.get("States")
    if not isinstance(states, Mapping) or not states:
        return False
    for state in states.values():
        if not isinstance(state, Mapping):
            return False
        kind = state.get("Type")
        if kind in INSTANT_TYPES:
            continue
        if kind == "Map":
            inner = state.get("ItemProcessor", state.get("Iterator"))
            config = inner.get("ProcessorConfig", {}) if isinstance(inner, Mapping) else {}
            if not isinstance(inner, Mapping) or not isinstance(config, Mapping) \
                    or config.get("Mode", "INLINE") != "INLINE" or not is_instant(inner):
                return False
            continue
        if kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not all(
                    isinstance(b, Mapping) and is_instant(b) for b in branches):
                return False
            continue
        return False  # Task, Wait, or anything unknown
    return True

"""The holder id of a concurrency permit: ``{child index}:{dispatch tag}``.

A tag is unique per dispatch attempt, so a stale holder (a message redelivered after its permit
was reclaimed) can only touch its own entry, never another attempt's permit. The Lua scripts in
``store/lua`` parse holders with the same pattern (``^(%d+):``).
"""

from __future__ import annotations


def holder(index: int, tag: str) -> str:
    """The holder id of child ``index`` dispatched with ``tag``."""
    return f"{index}:{tag}"


def index_of(holder_id: str) -> int:
    """The child index of a holder id."""
    return int(holder_id.split(":", 1)[0])

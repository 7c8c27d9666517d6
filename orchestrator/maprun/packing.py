"""How many child executions one broker message carries.

Celery's cost is per message (publish, deliver, ack, a ``children_done`` report, a chord part),
so children travel several to a message when that cannot hold anyone back:

* under a large concurrency limit, and only while the backlog fills
  :data:`SPREAD_MESSAGES` messages, so that the work of a small or draining Map Run spreads
  over every free worker slot instead of queueing inside one message (docs/architecture.md
  invariant 2: one slow child never stalls others);
* under a large limit whatever the backlog, when the ItemProcessor is *instant*: only Pass,
  Choice, Succeed and Fail states (also inside inline Map and Parallel states). Such a child
  cannot wait on anything and runs in microseconds, so spreading it over messages only
  multiplies the per-message cost: a 100-item Pass Map Run under MaxConcurrency 0 went out as
  100 messages and took 0.6 s. Instant children travel up to
  ``celery.instant_children_per_message`` (512) to a message, and the limit is spread over
  :data:`INSTANT_SPREAD` messages instead of 64: 10,000 batch-1 Pass children went out as
  80 messages of 128, now 20 of 512, a quarter of the per-message costs (a broker message,
  a ``children_done`` report, their round trips, a chord part).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.asl import is_instant

#: Children are packed several to a message only while the backlog (children granted now plus
#: those still queued) fills at least this many messages. Without this bound a small Map Run
#: under a large limit (MaxConcurrency 0: 10,000) went out as ONE message of up to 32 children
#: that a single worker process ran one after the other: 30 children ran at concurrency 1,
#: behind the slowest of them (e2e test_maprun_invariants, convoy without a limit).
SPREAD_MESSAGES = 64

#: Instant children fill messages until the limit is spread over this many messages (others:
#: 64, :func:`children_per_message`): enough messages for every worker slot, and a message of
#: instant children ends within milliseconds, so a full one holds no slot long.
INSTANT_SPREAD = 16

_instant_cache: dict[str, bool] = {}


def children_per_message(limit: int, ceiling: int) -> int:
    """How many child executions one broker message carries under a concurrency limit.

    Small limits get one child per message, so every permit is a worker slot of its own and a
    slow child delays nobody; large limits amortise Celery's per-message cost.
    """
    return max(1, min(ceiling, limit // 64))


def spread_per_message(per_message: int, backlog: int) -> int:
    """Children per message for a dispatch: packed only when the backlog is large.

    Keeps at least :data:`SPREAD_MESSAGES` messages' worth of backlog (see the module text).
    """
    return max(1, min(per_message, backlog // SPREAD_MESSAGES))


def instant_processor(processor_hash: str,
                      definition: Callable[[], Mapping[str, Any]]) -> bool:
    """:func:`is_instant` of ``definition()``, remembered by the processor's content hash."""
    known = _instant_cache.get(processor_hash)
    if known is None:
        if len(_instant_cache) > 1024:
            _instant_cache.clear()
        known = _instant_cache[processor_hash] = is_instant(definition())
    return known


def per_message(limit: int, ceiling: int, backlog: int, *, instant: bool) -> int:
    """Children per message of one dispatch (see the module text).

    ``ceiling``: ``celery.instant_children_per_message`` for instant children, else
    ``celery.children_per_message``.
    """
    if instant:
        return max(1, min(ceiling, limit // INSTANT_SPREAD))
    packed = children_per_message(limit, ceiling)
    if packed == 1:
        return packed
    return spread_per_message(packed, backlog)

"""The workers' side of the Map Run store in Redis: :class:`orchestrator.messages.ChildLedger`.

The only module of the workers that talks to Redis. Every key it uses arrives in the
:class:`~orchestrator.messages.ChildBatch` (the templates are in ``orchestrator/store/keys.py``),
so a worker never builds a coordinator key itself. Journal writes are best effort and say so
in the log (a lost journal only costs a shortcut). The claim of a message's permits and the
outbox entry of an ended child wait for Redis (:func:`until_answered`): a worker that cannot
record an outcome while Redis restarts keeps trying instead of dropping it, so the child is
not run again (docs/architecture.md invariant 6).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

import redis

from orchestrator.messages import ChildBatch, ChildOutcome
from orchestrator.store.scripts import lua

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest pause between two attempts of a write that waits for Redis.
MAX_BACKOFF = 2.0


def until_answered(action: Callable[[], T], what: str,
                   sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``action`` until Redis answers (connection errors and a loading Redis are retried)."""
    delay = 0.05
    attempt = 0
    while True:
        try:
            return action()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            attempt += 1
            if attempt == 1 or attempt % 20 == 0:
                log.warning("Redis does not answer (%s); retrying", what, exc_info=True)
            sleep(delay)
            delay = min(MAX_BACKOFF, delay * 2)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLedger:
    """A :class:`~orchestrator.messages.ChildLedger` on one Redis client."""

    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._claim = client.register_script(lua("claim_permits"))
        self._park = client.register_script(lua("park_permits"))

    @classmethod
    def from_url(cls, url: str) -> RedisLedger:
        """A ledger on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url))

    def processor(self, batch: ChildBatch) -> str | None:
        return _text(until_answered(lambda: self._r.get(batch.processor_key), "processor"))

    def map_run_status(self, batch: ChildBatch) -> str | None:
        return _text(until_answered(lambda: self._r.hget(batch.control_key, "status"),
                                    "map run status"))

    def statuses(self, batch: ChildBatch) -> list[str | None]:
        if not batch.children:
            return []
        fields = [str(c.index) for c in batch.children]
        raw = cast(list[bytes | None],
                   until_answered(lambda: self._r.hmget(batch.status_key, fields), "statuses"))
        return [_text(v) for v in raw]

    def journals(self, batch: ChildBatch) -> list[str | None]:
        if not batch.children:
            return []
        fields = [str(c.index) for c in batch.children]
        raw = cast(list[bytes | None],
                   until_answered(lambda: self._r.hmget(batch.journal_key, fields), "journals"))
        return [_text(v) for v in raw]

    def renew(self, batch: ChildBatch, holders: Sequence[str], expiry_ms: int) -> None:
        # XX: only permits that still exist, so a reclaimed permit is never resurrected.
        if holders:
            self._r.zadd(batch.semaphore_key, {h: expiry_ms for h in holders}, xx=True, ch=True)

    def claim(self, batch: ChildBatch, holders: Sequence[str], token: str, now_ms: int,
              expiry_ms: int) -> list[int]:
        if not holders:
            return []
        keys = [batch.semaphore_key, batch.claims_key]
        args: list[str | int] = [token, now_ms, expiry_ms, batch.redrive_count, *holders]
        raw = until_answered(lambda: self._claim(keys=keys, args=args), "claim permits")
        return [int(v) for v in cast(list[int], raw)]

    def start_leases(self, batch: ChildBatch, holders: Sequence[str], expiry_ms: int) -> None:
        """Shorten the parked permits of a message a worker just received to one lease.

        Only unclaimed permits (the park rule, ``park_permits.lua``); best effort.
        """
        if holders:
            self._park(keys=[batch.semaphore_key, batch.claims_key], args=[expiry_ms, *holders])

    def report_early(self, batch: ChildBatch, outcomes: Sequence[ChildOutcome]) -> None:
        if not outcomes:
            return
        entries = {str(o.index): o.model_dump_json(exclude_defaults=True) for o in outcomes}
        what = f"outbox entries of {len(entries)} children, from {outcomes[0].name}"
        until_answered(lambda: self._r.hset(batch.outbox_key, mapping=entries), what)

    def keep_journal(self, batch: ChildBatch, index: int, point_json: str) -> None:
        try:
            self._r.hset(batch.journal_key, str(index), point_json)
        except redis.RedisError:
            # Only the resume point is lost: a redrive then runs the child from StartAt.
            log.warning("could not keep the redrive journal of child %d", index, exc_info=True)

    def drop_journal(self, batch: ChildBatch, index: int) -> None:
        try:
            self._r.hdel(batch.journal_key, str(index))
        except redis.RedisError:
            log.warning("could not drop the redrive journal of child %d", index, exc_info=True)

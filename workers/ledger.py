"""The workers' side of the Map Run store in Redis: :class:`orchestrator.messages.ChildLedger`.

The only module of the workers that talks to Redis. Every key it uses arrives in the
:class:`~orchestrator.messages.ChildBatch` (the templates are in ``orchestrator/store/keys.py``),
so a worker never builds a coordinator key itself. Writes are best effort and say so in the log:
a lost outbox entry or journal only costs a shortcut, never an outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import redis

from orchestrator.messages import ChildBatch, ChildOutcome

log = logging.getLogger(__name__)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLedger:
    """A :class:`~orchestrator.messages.ChildLedger` on one Redis client."""

    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def from_url(cls, url: str) -> RedisLedger:
        """A ledger on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url))

    def processor(self, batch: ChildBatch) -> str | None:
        return _text(self._r.get(batch.processor_key))

    def map_run_status(self, batch: ChildBatch) -> str | None:
        return _text(self._r.hget(batch.control_key, "status"))

    def statuses(self, batch: ChildBatch) -> list[str | None]:
        if not batch.children:
            return []
        raw = cast(list[bytes | None], self._r.hmget(batch.status_key, [str(c.index) for c in batch.children]))
        return [_text(v) for v in raw]

    def journals(self, batch: ChildBatch) -> list[str | None]:
        if not batch.children:
            return []
        raw = cast(list[bytes | None], self._r.hmget(batch.journal_key, [str(c.index) for c in batch.children]))
        return [_text(v) for v in raw]

    def renew(self, batch: ChildBatch, holders: Sequence[str], expiry_ms: int) -> None:
        # XX: only permits that still exist, so a reclaimed permit is never resurrected.
        if holders:
            self._r.zadd(batch.semaphore_key, {h: expiry_ms for h in holders}, xx=True, ch=True)

    def report_early(self, batch: ChildBatch, outcome: ChildOutcome) -> None:
        try:
            self._r.hset(batch.outbox_key, str(outcome.index), outcome.model_dump_json())
        except redis.RedisError:
            log.warning("could not write the outbox entry of %s", outcome.name, exc_info=True)

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

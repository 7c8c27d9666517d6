"""Opening the Redis-backed stores of a process: the one place a Redis client is built.

Entry points (the API app, the control worker) call :func:`open_stores` with the process's
settings and hand the stores down; nothing above ``orchestrator.store`` builds a client or
names a key. :data:`UNAVAILABLE` lists the exceptions that mean "Redis cannot be reached",
which the API answers with 503.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
import redis.exceptions

from orchestrator.settings import Settings
from orchestrator.store.callbacks import CallbackStore
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.pools import RedisPoolStore
from orchestrator.store.redis_store import RedisStore
from orchestrator.store.sync_redis import sync

#: Exceptions of an unreachable Redis (connection refused or lost, timed out).
UNAVAILABLE: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError,
                                            redis.exceptions.TimeoutError)


class BrokerQueues:
    """Depths of the Celery queues on the broker's Redis (a Celery queue is a Redis list)."""

    def __init__(self, client: redis.Redis, names: tuple[str, ...]) -> None:
        self._r = sync(client)
        self.names = names

    def depths(self) -> dict[str, int]:
        """Messages waiting in each queue."""
        return {name: self._r.llen(name) for name in self.names}


@dataclass(frozen=True, slots=True)
class Stores:
    """The record stores of one process, on one Redis client."""

    records: RedisStore
    map_runs: RedisMapRunStore
    callbacks: CallbackStore
    pools: RedisPoolStore


def open_stores(settings: Settings) -> Stores:
    """The stores at ``settings.redis.url``."""
    client = redis.Redis.from_url(settings.redis.url)
    keys = Keys(settings.redis.key_prefix)
    return Stores(RedisStore(client, keys), RedisMapRunStore(client, keys),
                  CallbackStore(client, keys), RedisPoolStore(client, keys))


def broker_queues(settings: Settings) -> BrokerQueues:
    """The control and children queues on the broker at ``settings.broker_url``."""
    return BrokerQueues(redis.Redis.from_url(settings.broker_url),
                        (settings.celery.control_queue, settings.celery.children_queue))

"""Named pools (a stepmap extension, docs/limits.md): the one store of pool records.

A pool is a concurrency limit (and an optional items/s rate) that several Map Runs share. Its
record is a hash ``pool:{name}``; the Map Runs bound to it are members of ``pool:{name}:runs``
(written by the Map Run store when a run opens, closes or is redriven). The pool's permits are
its members' permits: the grant script (``store/lua/grant_limits.lua``) adds them up, so
nothing here counts permits.

Removing a pool that open Map Runs draw from is refused (:class:`PoolInUse`); the check and
the removal are one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from orchestrator.store.keys import Keys
from orchestrator.store.scripts import lua
from orchestrator.store.sync_redis import sync

#: A pool name: what the grant script can split and a tag value can hold.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


class PoolNotFound(LookupError):
    """No pool has this name."""


class PoolExists(ValueError):
    """A pool with this name exists already."""


class PoolInUse(ValueError):
    """Open Map Runs draw from the pool (``runs``: their ARNs)."""

    def __init__(self, name: str, runs: Sequence[str]) -> None:
        super().__init__(name)
        self.name = name
        self.runs = list(runs)


@dataclass(frozen=True, slots=True)
class Pool:
    """One named pool."""

    name: str
    max_concurrency: int
    items_per_second: float | None
    creation_date: float
    update_date: float


@dataclass(frozen=True, slots=True)
class PoolUsage:
    """What a pool's Map Runs hold now: permits in use and the open member runs."""

    running: int
    runs: list[str]


class PoolStore(Protocol):
    """Persistence of named pools."""

    def create(self, pool: Pool) -> None:
        """Store a new pool; :class:`PoolExists` when the name is taken."""
        ...

    def get(self, name: str) -> Pool | None:
        """The pool, or ``None``."""
        ...

    def list_pools(self) -> list[Pool]:
        """Every pool, oldest first."""
        ...

    def update(self, name: str, *, max_concurrency: int | None, items_per_second: float | None,
               clear_rate: bool, now: float) -> Pool:
        """Change a pool's limits (``None`` keeps one; ``clear_rate`` removes the rate)."""
        ...

    def delete(self, name: str) -> None:
        """Remove an unused pool (:class:`PoolInUse`, :class:`PoolNotFound`)."""
        ...

    def usage(self, name: str) -> PoolUsage:
        """Permits held by the pool's open Map Runs, and their ARNs."""
        ...


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisPoolStore:
    """A :class:`PoolStore` in Redis (keys from :class:`~orchestrator.store.keys.Keys`)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = sync(client)
        self._keys = keys
        self._delete = client.register_script(lua("delete_pool"))

    @classmethod
    def from_url(cls, url: str, prefix: str = "stepmap") -> RedisPoolStore:
        """A store on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url), Keys(prefix))

    def create(self, pool: Pool) -> None:
        fields = {"maxConcurrency": str(pool.max_concurrency),
                  "creationDate": repr(pool.creation_date), "updateDate": repr(pool.update_date)}
        if pool.items_per_second is not None:
            fields["itemsPerSecond"] = repr(float(pool.items_per_second))
        key = self._keys.pool(pool.name)
        if not self._r.hsetnx(key, "name", pool.name):
            raise PoolExists(pool.name)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(key, mapping={k: v for k, v in fields.items()})
        pipe.zadd(self._keys.pool_index(), {pool.name: pool.creation_date})
        pipe.execute()

    def get(self, name: str) -> Pool | None:
        raw = {_text(k): _text(v) for k, v in self._r.hgetall(self._keys.pool(name)).items()}
        if "maxConcurrency" not in raw:
            return None
        rate = raw.get("itemsPerSecond")
        return Pool(name=name, max_concurrency=int(raw["maxConcurrency"]),
                    items_per_second=float(rate) if rate else None,
                    creation_date=float(raw.get("creationDate") or 0.0),
                    update_date=float(raw.get("updateDate") or 0.0))

    def list_pools(self) -> list[Pool]:
        names = [_text(n) for n in self._r.zrange(self._keys.pool_index(), 0, -1)]
        return [p for p in (self.get(n) for n in names) if p is not None]

    def update(self, name: str, *, max_concurrency: int | None, items_per_second: float | None,
               clear_rate: bool, now: float) -> Pool:
        key = self._keys.pool(name)
        if self.get(name) is None:
            raise PoolNotFound(name)
        fields = {"updateDate": repr(now)}
        if max_concurrency is not None:
            fields["maxConcurrency"] = str(max_concurrency)
        if items_per_second is not None:
            fields["itemsPerSecond"] = repr(float(items_per_second))
        pipe = self._r.pipeline(transaction=True)
        if items_per_second is None and clear_rate:
            pipe.hdel(key, "itemsPerSecond", "rl.items.tokens", "rl.items.at")
        pipe.hset(key, mapping={k: v for k, v in fields.items()})
        pipe.execute()
        pool = self.get(name)
        if pool is None:
            raise PoolNotFound(name)
        return pool

    def delete(self, name: str) -> None:
        k = self._keys
        out = self._delete(keys=[k.pool(name), k.pool_runs(name), k.pool_index()], args=[name])
        if int(out[0]) == 0:
            raise PoolNotFound(name)
        if int(out[0]) == 2:
            raise PoolInUse(name, [_text(a) for a in out[1:]])

    def usage(self, name: str) -> PoolUsage:
        members = {_text(a): _text(v) for a, v in self._r.hgetall(self._keys.pool_runs(name)).items()}
        running = 0
        for member in members.values():
            semaphore = member.split("\t", 1)[0]
            running += int(self._r.zcard(semaphore))
        return PoolUsage(running=running, runs=sorted(members))


class MemoryPoolStore:
    """A :class:`PoolStore` in memory (unit tests). Map Runs in memory join no pool."""

    def __init__(self) -> None:
        self._pools: dict[str, Pool] = {}

    def create(self, pool: Pool) -> None:
        if pool.name in self._pools:
            raise PoolExists(pool.name)
        self._pools[pool.name] = pool

    def get(self, name: str) -> Pool | None:
        return self._pools.get(name)

    def list_pools(self) -> list[Pool]:
        return sorted(self._pools.values(), key=lambda p: p.creation_date)

    def update(self, name: str, *, max_concurrency: int | None, items_per_second: float | None,
               clear_rate: bool, now: float) -> Pool:
        pool = self._pools.get(name)
        if pool is None:
            raise PoolNotFound(name)
        rate = items_per_second if items_per_second is not None else (
            None if clear_rate else pool.items_per_second)
        pool = Pool(name=name, items_per_second=rate, creation_date=pool.creation_date,
                    max_concurrency=max_concurrency if max_concurrency is not None
                    else pool.max_concurrency, update_date=now)
        self._pools[name] = pool
        return pool

    def delete(self, name: str) -> None:
        if self._pools.pop(name, None) is None:
            raise PoolNotFound(name)

    def usage(self, name: str) -> PoolUsage:
        return PoolUsage(running=0, runs=[])

"""Readiness marks of a local stack's Celery workers (``orchestrator.devstack``).

A worker started by the local stack writes its pid under a key of its own once its consumer is
ready; the stack polls that key (one GET, no broadcast round trip). Key template:
:meth:`orchestrator.store.keys.Keys.worker_ready`.
"""

from __future__ import annotations

import redis


class ReadinessMarks:
    """Writes and reads readiness marks on one Redis server."""

    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def from_url(cls, url: str, *, socket_timeout: float | None = None) -> ReadinessMarks:
        """Marks on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url, socket_timeout=socket_timeout))

    def mark(self, key: str, pid: int, ttl_seconds: int) -> None:
        """Say that process ``pid`` is ready."""
        self._r.set(key, str(pid), ex=ttl_seconds)

    def pid(self, key: str) -> str | None:
        """The pid marked ready under ``key``, if any."""
        value = self._r.get(key)
        return value.decode() if isinstance(value, bytes) else None

    def close(self) -> None:
        """Close the connection pool."""
        self._r.close()

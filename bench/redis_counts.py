"""Redis commands and round trips during a measurement, counted by the server itself.

Commands come from ``INFO commandstats`` (calls per command), round trips from ``INFO stats``
``total_reads_processed``: the read events of the server's event loop, one per request (or
pipeline) a client sends, so a pipelined batch of commands counts once. The counter's own two
``INFO`` calls are subtracted. Blocked consumers (a worker's BRPOP wakes up once a second) and
the bench's own polling are in the counts too; they are a few per second.
"""

from __future__ import annotations

from typing import Any, Self


def _snapshot(client: Any) -> tuple[int, dict[str, int]]:
    stats = client.info("stats")
    commands = {name.removeprefix("cmdstat_"): int(v["calls"])
                for name, v in client.info("commandstats").items()}
    return int(stats["total_reads_processed"]), commands


class RedisCounts:
    """Read events and command calls of a Redis server between ``__enter__`` and ``__exit__``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.reads = 0
        self.commands: dict[str, int] = {}
        self._before: tuple[int, dict[str, int]] = (0, {})

    def __enter__(self) -> Self:
        self._before = _snapshot(self.client)
        return self

    def __exit__(self, *exc: object) -> None:
        reads, commands = _snapshot(self.client)
        before_reads, before = self._before
        self.reads = reads - before_reads - 2  # this counter's INFO stats + INFO commandstats
        self.commands = {k: v - before.get(k, 0) for k, v in commands.items()
                         if v - before.get(k, 0) > 0}
        self.commands["info"] = self.commands.get("info", 0) - 2
        if self.commands["info"] <= 0:
            del self.commands["info"]

    def per(self, n: int) -> dict[str, Any]:
        """The counts per unit (child, task) for the report and the JSON."""
        total = sum(self.commands.values())
        top = sorted(self.commands.items(), key=lambda kv: -kv[1])[:8]
        return {"redis_round_trips_per": self.reads / n, "redis_commands_per": total / n,
                "redis_commands_top": {k: round(v / n, 3) for k, v in top}}

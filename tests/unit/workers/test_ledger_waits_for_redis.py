"""A worker waits for Redis to record an outcome instead of dropping it (issue 9).

Regression: an outbox write that failed while Redis restarted was logged and dropped, so a
STANDARD child that had finished ran again. The waiting itself is :func:`until_answered`; the
Redis ledger's claim and outbox writes go through it (the Redis restart e2e test runs them on
a real server).
"""

from __future__ import annotations

import redis

from workers.ledger import until_answered


def test_a_write_is_retried_until_redis_answers() -> None:
    calls: list[int] = []
    pauses: list[float] = []

    def write() -> str:
        calls.append(1)
        if len(calls) < 5:
            raise redis.ConnectionError("Connection refused")
        return "ok"

    assert until_answered(write, "outbox", sleep=pauses.append) == "ok"
    assert len(calls) == 5 and len(pauses) == 4
    assert pauses == sorted(pauses)  # backing off


def test_a_loading_redis_is_waited_for_too() -> None:
    calls: list[int] = []

    def write() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise redis.BusyLoadingError("Redis is loading the dataset in memory")
        return 1

    assert until_answered(write, "claim", sleep=lambda _: None) == 1

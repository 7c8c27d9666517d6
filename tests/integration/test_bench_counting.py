"""The bench's Redis counters and its delaying proxy, on a real Redis on loopback.

The per-child round trips ``make bench`` prints come from the server's own counts
(``bench/redis_counts.py``); the delay section sends every Redis request through
``bench/proxy.py``. Both are checked here against traffic whose size is known.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bench.proxy import ProxyProcess
from bench.redis_counts import RedisCounts


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    c.ping()
    yield c
    c.close()


def test_the_counts_are_one_round_trip_per_request_and_one_per_pipeline(
        client: redis.Redis) -> None:
    with RedisCounts(client) as counts:
        for i in range(10):
            client.set(f"k{i}", i)
        pipe = client.pipeline(transaction=False)
        for i in range(50):
            pipe.incr("n")
        pipe.execute()
    assert counts.reads == 11
    assert counts.commands == {"set": 10, "incrby": 50}  # redis-py sends INCR as INCRBY
    per = counts.per(10)
    assert per["redis_round_trips_per"] == 1.1 and per["redis_commands_per"] == 6.0


def test_the_proxy_forwards_requests_in_order_and_counts_them(redis_url: str,
                                                               tmp_path: Path) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = ProxyProcess(port, 1.0, tmp_path)
    try:
        through = redis.Redis.from_url(proxy.url)
        assert through.ping()
        pipe = through.pipeline(transaction=False)
        for i in range(200):
            pipe.rpush("order", i)
        pipe.execute()
        assert [int(v) for v in through.lrange("order", 0, -1)] == list(range(200))
        through.close()
    finally:
        proxy.stop()
    stats = proxy.stats()
    assert stats["connections"] >= 1 and stats["requests"] >= 3 and stats["answers"] >= 3


def test_the_proxy_refuses_an_upstream_off_loopback() -> None:
    from bench.proxy import main

    with pytest.raises(SystemExit):
        main(["--upstream", "10.0.0.1:6379"])

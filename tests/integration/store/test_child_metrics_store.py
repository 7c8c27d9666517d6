"""The child metrics totals, on real Redis and in memory: buckets, seconds, capped error names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from orchestrator.store.child_metrics import (
    BUCKETS,
    OTHER_ERROR,
    ChildMetrics,
    ChildObservation,
    MemoryChildMetrics,
    RedisChildMetrics,
    bucket_of,
    machine_of,
)
from orchestrator.store.keys import Keys


@pytest.fixture(params=["redis", "memory"])
def metrics(request: pytest.FixtureRequest) -> Iterator[ChildMetrics]:
    if request.param == "memory":
        yield MemoryChildMetrics(cap=2)
        return
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    try:
        yield RedisChildMetrics(client, Keys("metrics-test"), cap=2)
    finally:
        client.close()


def test_durations_fall_in_their_buckets_and_add_up(metrics: ChildMetrics) -> None:
    metrics.observe([ChildObservation("orders", "SUCCEEDED", 0.2),
                     ChildObservation("orders", "SUCCEEDED", 0.2),
                     ChildObservation("orders", "FAILED", 7200.0, "App.Boom")])
    metrics.observe([ChildObservation("orders", "SUCCEEDED", 3.0)])
    snap = metrics.snapshot()
    succeeded = snap.buckets[("orders", "SUCCEEDED")]
    assert succeeded[bucket_of(0.2)] == 2 and succeeded[bucket_of(3.0)] == 1
    assert sum(succeeded) == 3
    assert snap.buckets[("orders", "FAILED")][len(BUCKETS)] == 1  # +Inf
    assert snap.seconds[("orders", "SUCCEEDED")] == pytest.approx(3.4)
    assert snap.errors == {("orders", "App.Boom"): 1}


def test_error_names_beyond_the_cap_count_as_other(metrics: ChildMetrics) -> None:
    metrics.observe([ChildObservation("a", "FAILED", 1.0, "E1"),
                     ChildObservation("b", "FAILED", 1.0, "E2|with bar")])
    metrics.observe([ChildObservation("a", "FAILED", 1.0, "E3"),
                     ChildObservation("a", "TIMED_OUT", 1.0, "E1"),
                     ChildObservation("b", "FAILED", 1.0, "E4")])
    assert metrics.snapshot().errors == {
        ("a", "E1"): 2, ("b", "E2|with bar"): 1, ("a", OTHER_ERROR): 1, ("b", OTHER_ERROR): 1}


def test_nothing_observed_reads_empty(metrics: ChildMetrics) -> None:
    metrics.observe([])
    snap = metrics.snapshot()
    assert (snap.buckets, snap.seconds, snap.errors) == ({}, {}, {})


def test_the_machine_is_read_from_the_map_run_arn() -> None:
    assert machine_of("arn:aws:states:us-east-1:000000000000:mapRun:orders/Map:1f2e") == "orders"
    assert machine_of("nonsense") == ""

"""Exactly-once for STANDARD children under backlog and slow children, on real workers.

Regressions of issue 9 (docs/architecture.md invariant 10):

* With MaxConcurrency far above the worker capacity, permits expired while their messages
  still waited in the queue and the children were dispatched again: hundreds of children ran
  twice with no fault at all, and the SUCCEEDED run's DescribeMapRun still showed running
  children. Here 96 children of 0.25 s wait on 4 worker slots (6 s of backlog) under a 1-s
  lease.
* A child running longer than the broker's visibility timeout was started a second time while
  it still ran (the broker redelivered its message to another worker slot).

The probe handlers record every start in Redis (``tests/e2e/handlers/probe.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_support import E2E, counts_add_up, distributed_map, make_stack, probe_task

pytestmark = pytest.mark.slow

VISIBILITY = 3


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"lease_seconds": 1}}, workers=1, concurrency=4,
                          worker_env={"STEPMAP_CELERY__VISIBILITY_TIMEOUT": str(VISIBILITY)})


def _probe_map(ns: str, **fields: Any) -> dict[str, Any]:
    extra = fields.pop("extra", {})
    return distributed_map(probe_task("probe-sleep"), "Work",
                           ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value", **extra},
                           **fields)


def _snapshots_until_done(e2e: E2E, arn: str) -> list[dict[str, Any]]:
    map_run = e2e.wait_map_run(arn)
    snapshots = []
    while e2e.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        snapshots.append(e2e.sfn.describe_map_run(mapRunArn=map_run))
        time.sleep(0.1)
    snapshots.append(e2e.sfn.describe_map_run(mapRunArn=map_run))
    return snapshots


@pytest.mark.parametrize("max_concurrency", [0, 1000])
def test_a_backlog_far_above_the_workers_runs_every_child_once(e2e: E2E,
                                                               max_concurrency: int) -> None:
    ns = e2e.unique("backlog")
    count = 96
    arn = e2e.start(e2e.create_machine(_probe_map(ns, MaxConcurrency=max_concurrency,
                                                  extra={"sleep": 0.25})), list(range(count)))
    snapshots = _snapshots_until_done(e2e, arn)
    described = e2e.wait(arn, timeout=120)

    assert described["status"] == "SUCCEEDED", described
    starts = Counter(s["id"] for s in e2e.probe(ns, "starts"))
    twice = sorted(i for i, n in starts.items() if n > 1)
    bad = [s for s in snapshots
           if not (counts_add_up(s["itemCounts"]) and counts_add_up(s["executionCounts"]))]
    print(f"\nMaxConcurrency {max_concurrency}, {count} children on 4 slots: started "
          f"{sum(starts.values())} times, {len(twice)} twice; {len(bad)} of {len(snapshots)} "
          f"snapshots did not add up")
    assert sorted(starts) == list(range(count))
    assert twice == []
    assert bad == []
    final = snapshots[-1]
    assert final["status"] == "SUCCEEDED"
    assert final["executionCounts"]["running"] == 0 == final["itemCounts"]["running"]
    assert final["itemCounts"]["succeeded"] == count


def test_a_child_longer_than_the_visibility_timeout_is_not_started_again(e2e: E2E) -> None:
    ns = e2e.unique("longchild")
    definition = _probe_map(ns, MaxConcurrency=1,
                            extra={"sleep": 0, "slow_ids": [0], "slow_seconds": 3 * VISIBILITY})
    arn = e2e.start(e2e.create_machine(definition), [0])
    deadline = time.monotonic() + 30
    while not e2e.probe(ns, "starts") and time.monotonic() < deadline:
        time.sleep(0.05)
    # Past the visibility timeout, a worker that starts restores the unacknowledged message
    # to the queue (kombu's Redis transport) while the first delivery still runs it.
    time.sleep(VISIBILITY + 1)
    extra = e2e.stack.add_worker("children", concurrency=2)
    try:
        described = e2e.wait(arn, timeout=120)
    finally:
        e2e.stack.stop_worker(extra.name)

    assert described["status"] == "SUCCEEDED", described
    starts = [s["id"] for s in e2e.probe(ns, "starts")]
    print(f"\nchild of {3 * VISIBILITY}s under a {VISIBILITY}-s visibility timeout: "
          f"started {len(starts)} times")
    assert starts == [0]

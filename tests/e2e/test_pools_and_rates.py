"""Named pools and rate limits with real workers (docs/limits.md).

* Three Map Runs of two state machines share a pool of 10 (two runs of a machine bound by its
  per-Map-state ``stepmap:pools:Map`` tag, one of an untagged machine bound explicitly at
  StartExecution): the handlers' own gauge never sees more than 10 children at once, although
  each run alone may run 8 and the workers have 12 slots, and every item succeeds once.
* A Map Run limited to 20 items/s: the items dispatched between any two moments (Redis TIME
  and the Map Run's counters, read in one transaction) never exceed what the token bucket
  allows; raising the limit live lets the rest go at once.
* A children worker holding pool permits is killed: its permits come back when their lease
  lapses, the run ends with every item succeeded, and the pool is empty afterwards.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from e2e_support import E2E, distributed_map, make_stack, probe_task

from orchestrator.store.keys import Keys

pytestmark = pytest.mark.slow

LEASE_SECONDS = 3


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"lease_seconds": LEASE_SECONDS}}, workers=2,
                          concurrency=6,
                          worker_env={"STEPMAP_CELERY__VISIBILITY_TIMEOUT": "10"})


def _v1(e2e: E2E) -> httpx.Client:
    return httpx.Client(base_url=e2e.stack.api_url + "/v1", timeout=30)


def _machine(e2e: E2E, ns: str, tags: dict[str, str], *, handler: str = "probe-gauge",
             max_concurrency: int = 8, **fields: Any) -> str:
    definition = distributed_map(
        probe_task(handler), "Work", MaxConcurrency=max_concurrency,
        ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value", "sleep": 0.3,
                      "slow_ids": [], **fields.pop("extra", {})}, **fields)
    out = e2e.sfn.create_state_machine(
        name=e2e.unique("pooled"), definition=json.dumps(definition),
        roleArn="arn:aws:iam::000000000000:role/stepmap-e2e",
        tags=[{"key": k, "value": v} for k, v in tags.items()])
    return str(out["stateMachineArn"])


def test_three_map_runs_of_two_machines_never_exceed_their_shared_pool(e2e: E2E) -> None:
    pool, ns = e2e.unique("shared"), e2e.unique("pool")
    with _v1(e2e) as v1:
        assert v1.post("/pools", json={"name": pool, "maxConcurrency": 10}).status_code == 200
        tagged = _machine(e2e, ns, {"stepmap:pools:Map": pool})  # bound by its Map state
        untagged = _machine(e2e, ns, {})
        arns = {tag: e2e.start(tagged, [f"{tag}{i}" for i in range(30)]) for tag in "ab"}
        # the third run, of the other machine, is bound explicitly when it starts
        started = v1.post("/executions", json={
            "stateMachineArn": untagged, "input": [f"c{i}" for i in range(30)],
            "stepmapBinding": {"pools": [pool]}})
        assert started.status_code == 200, started.text
        arns["c"] = started.json()["executionArn"]
        described = {tag: e2e.wait(arn, timeout=120) for tag, arn in arns.items()}
        assert {d["status"] for d in described.values()} == {"SUCCEEDED"}, described
        for arn in arns.values():
            (run,) = e2e.map_runs(arn)  # boto3 ignores the extension members ...
            assert "stepmap" not in run
            assert run["itemCounts"]["succeeded"] == run["itemCounts"]["total"] == 30
            extended = v1.get(f"/map-runs/{run['mapRunArn']}").json()  # ... /v1 shows them
            assert extended["stepmap"]["pools"] == [pool]
        after = v1.get(f"/pools/{pool}").json()
        assert (after["running"], after["mapRunArns"]) == (0, [])
    # measured inside the handlers: never more than the pool, yet more than one run's limit
    peak = e2e.probe_peak(ns)
    print(f"\nshared pool of 10: peak of running children over three Map Runs = {peak}")
    assert 8 < peak <= 10
    done = Counter(d["id"] for d in e2e.probe(ns, "done"))
    assert set(done) == {f"{t}{i}" for t in "abc" for i in range(30)}
    assert set(done.values()) == {1}


def _dispatched_at(e2e: E2E, counters_key: str) -> tuple[float, int]:
    """(Redis TIME in seconds, items dispatched so far), read in one transaction."""
    pipe = e2e.redis.pipeline(transaction=True)
    pipe.time()
    pipe.hget(counters_key, "i.dispatched")
    now, dispatched = pipe.execute()
    return now[0] + now[1] / 1e6, int(dispatched or 0)


def test_a_rate_limited_map_run_dispatches_no_faster_than_its_limit(e2e: E2E) -> None:
    ns, rate, items = e2e.unique("rate"), 20.0, 60
    machine = _machine(e2e, ns, {"stepmap:itemsPerSecond": str(int(rate))}, extra={"sleep": 0})
    arn = e2e.start(machine, list(range(items + 40)))
    map_run = e2e.wait_map_run(arn)
    counters = Keys(e2e.stack.settings.redis.key_prefix).map_run_counters(map_run)
    samples = []
    while True:
        samples.append(_dispatched_at(e2e, counters))
        if samples[-1][1] >= items:
            break
        time.sleep(0.05)
    # the bucket holds rate * 0.1 s (2 items); the rest come at `rate` per second of Redis time
    capacity = rate * 0.1
    worst = max(d2 - d1 - rate * (t2 - t1)
                for i, (t1, d1) in enumerate(samples) for t2, d2 in samples[i + 1:])
    print(f"\nrate {rate:g}/s: {len(samples)} samples, largest excess over the bucket "
          f"{worst:.2f} items (capacity {capacity:g})")
    assert len(samples) > 10
    assert worst <= capacity + 1e-6
    # raised live: the remaining 40 items go without a rate
    with _v1(e2e) as v1:
        patched = v1.patch(f"/map-runs/{map_run}/rate", json={"itemsPerSecond": 0})
        assert patched.status_code == 200, patched.text
    described = e2e.wait(arn, timeout=60)
    assert described["status"] == "SUCCEEDED"
    with _v1(e2e) as v1:
        run = v1.get(f"/map-runs/{map_run}").json()
    assert "itemsPerSecond" not in run["stepmap"]
    assert run["itemCounts"]["succeeded"] == items + 40
    assert sorted(d["id"] for d in e2e.probe(ns, "done")) == list(range(items + 40))


def test_pool_permits_of_a_killed_children_worker_come_back_after_the_lease(e2e: E2E) -> None:
    pool, ns = e2e.unique("killpool"), e2e.unique("poolkill")
    with _v1(e2e) as v1:
        assert v1.post("/pools", json={"name": pool, "maxConcurrency": 4}).status_code == 200
        machine = _machine(e2e, ns, {"stepmap:pools": pool}, handler="probe-sleep",
                           extra={"sleep": 1.5})
        arn = e2e.start(machine, list(range(12)))
        deadline = time.monotonic() + 60
        while v1.get(f"/pools/{pool}").json()["running"] < 4 or \
                e2e.redis.llen(f"probe:{ns}:starts") < 4:
            assert time.monotonic() < deadline, "the pool never filled"
            time.sleep(0.05)
        finished = {d["id"] for d in e2e.probe(ns, "done")}
        in_flight = Counter(s["worker"] for s in e2e.probe(ns, "starts")
                            if s["id"] not in finished)
        by_pid = {e2e.stack.processes[name].pid: name
                  for name in e2e.stack.worker_names("children")}
        victim = by_pid[in_flight.most_common(1)[0][0]]
        e2e.stack.kill_worker(victim)  # SIGKILL: its children never report, nor renew
        held = v1.get(f"/pools/{pool}").json()["running"]
        assert held > 0  # the dead worker's permits still count ...
        described = e2e.wait(arn, timeout=120)  # ... until their lease lapses and they return
        e2e.stack.restart_worker(victim)
        assert described["status"] == "SUCCEEDED", described
        (run,) = e2e.map_runs(arn)
        assert run["itemCounts"]["succeeded"] == 12
        after = v1.get(f"/pools/{pool}").json()
        assert (after["running"], after["mapRunArns"]) == (0, [])
        assert v1.delete(f"/pools/{pool}").status_code == 200
    assert set(d["id"] for d in e2e.probe(ns, "done")) == set(range(12))

"""Rate limits and named pools (docs/limits.md): the limiter's accuracy and the pools' cost.

* :func:`measure_rate`: a Distributed Map over JSON items in S3, MaxItemsPerBatch ``batch``,
  Pass children, limited by the ``stepmap:itemsPerSecond`` tag. While it runs, the Map Run's
  dispatched-items counter and Redis TIME are sampled in one transaction; the rate is the slope
  between the samples at 10 % and 90 % of the items (the bucket's initial burst and the tail
  are left out), and the accuracy is that rate over the limit, minus one.
* :func:`measure_pools_overhead`: batch-1 EXPRESS children/s of the same Map Run with and
  without a pool (``stepmap:pools``, a limit far above the run's), alternated in one sitting;
  the figure is the ratio pools on / pools off.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from bench._stack import BUCKET, ROLE, clients, redis_client
from bench.maprun import BenchError, Figure, batch1_definition
from orchestrator.devstack.stack import LocalStack
from orchestrator.store.keys import Keys

SAMPLE_EVERY = 0.02


def _items(stack: LocalStack, n: int) -> str:
    _, s3 = clients(stack)
    key = f"bench/limits-items-{n}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(list(range(n))).encode())
    return key


def _machine(sfn: Any, definition: dict[str, Any], tags: dict[str, str]) -> str:
    out = sfn.create_state_machine(
        name=f"limits-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE,
        tags=[{"key": k, "value": v} for k, v in tags.items()])
    return str(out["stateMachineArn"])


def _wait(sfn: Any, arn: str, deadline: float) -> None:
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] == "SUCCEEDED":
            return
        if described["status"] != "RUNNING":
            raise BenchError(f"{arn}: {described['status']}: {described.get('cause')}")
        if time.perf_counter() > deadline:
            raise BenchError(f"{arn}: still RUNNING")
        time.sleep(0.05)


def _map_run_arn(sfn: Any, arn: str, deadline: float) -> str:
    while time.perf_counter() < deadline:
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        if runs:
            return str(runs[0]["mapRunArn"])
        time.sleep(0.01)
    raise BenchError(f"{arn}: no Map Run")


def measure_rate(stack: LocalStack, items: int, rate: float, batch: int,
                 timeout: float) -> Figure:
    """Items/s granted under an items/s limit, sampled from Redis (see the module docstring)."""
    sfn, _ = clients(stack)
    key = _items(stack, items)
    definition = batch1_definition("EXPRESS", reader=True)
    fan = definition["States"]["Fan"]
    fan["ItemBatcher"] = {"MaxItemsPerBatch": batch}
    # A small child output: the Map's result (2,000 batches) stays under the payload limit.
    fan["ItemProcessor"]["States"]["P"]["Result"] = 0
    machine = _machine(sfn, definition, {"stepmap:itemsPerSecond": f"{rate:g}"})
    start = time.perf_counter()
    deadline = start + timeout
    arn = sfn.start_execution(stateMachineArn=machine,
                              input=json.dumps({"bucket": BUCKET, "key": key}))["executionArn"]
    map_run = _map_run_arn(sfn, arn, deadline)
    assert stack.settings is not None
    counters = Keys(stack.settings.redis.key_prefix).map_run_counters(map_run)
    client = redis_client(stack)
    samples: list[tuple[float, int]] = []
    try:
        while not samples or samples[-1][1] < items:
            if time.perf_counter() > deadline:
                raise BenchError(f"rate: {samples[-1][1] if samples else 0} of {items} items "
                                 "dispatched in time")
            pipe = client.pipeline(transaction=True)
            pipe.time()
            pipe.hget(counters, "i.dispatched")
            now, dispatched = pipe.execute()
            samples.append((now[0] + now[1] / 1e6, int(dispatched or 0)))
            time.sleep(SAMPLE_EVERY)
    finally:
        client.close()
    _wait(sfn, arn, deadline)
    seconds = time.perf_counter() - start
    low = next(s for s in samples if s[1] >= 0.1 * items)
    high = [s for s in samples if s[1] <= 0.9 * items][-1]
    measured = (high[1] - low[1]) / (high[0] - low[0])
    whole = (samples[-1][1] - samples[0][1]) / max(1e-9, samples[-1][0] - samples[0][0])
    return Figure(f"rate limit {rate:,.0f} items/s, batches of {batch}", items, seconds,
                  "items/s", {"limit": rate, "measured_rate": measured,
                              "accuracy": measured / rate - 1.0, "whole_run_rate": whole,
                              "samples": len(samples), "batch": batch})


def measure_pools_overhead(stack: LocalStack, children: int, rounds: int,
                           timeout: float) -> Figure:
    """Children/s with a pool and without, alternated ``rounds`` times; best of each."""
    sfn, _ = clients(stack)
    key = _items(stack, children)
    pool = f"bench-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.api_url + "/v1", timeout=60) as v1:
        created = v1.post("/pools", json={"name": pool, "maxConcurrency": 100_000})
        if created.status_code != 200:
            raise BenchError(f"creating the pool: {created.status_code} {created.text}")
    definition = batch1_definition("EXPRESS", reader=True)
    machines = {"off": _machine(sfn, definition, {}),
                "on": _machine(sfn, definition, {"stepmap:pools": pool})}
    rates: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for mode, machine in machines.items():
            start = time.perf_counter()
            arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(
                {"bucket": BUCKET, "key": key}))["executionArn"]
            _wait(sfn, arn, start + timeout)
            rates[mode].append(children / (time.perf_counter() - start))
    on, off = max(rates["on"]), max(rates["off"])
    return Figure("batch 1 EXPRESS children in a pool", children, children / on, "children/s",
                  {"pools_on": rates["on"], "pools_off": rates["off"], "ratio": on / off})

"""Latency of small Map Runs: StartExecution -> first child running, and -> SUCCEEDED.

A 100-item Pass Distributed Map (items inline, ``ItemsPath``), started ``runs`` times one after
the other for each child execution type. Times are taken from the server's own timestamps (the
children's records and the execution's ``stopDate``) against the wall clock read just before
StartExecution, on the same machine, so the bench's polling interval is not in the figures.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from typing import Any

from bench._stack import ROLE, clients, redis_client
from bench.maprun import BenchError, Figure, _map_run, child_timeline
from bench.redis_counts import RedisCounts
from orchestrator.devstack.stack import LocalStack

ITEMS = 100
#: Seconds between two looks at a running execution (only the loop's pace, not the figure).
LOOK = 0.01


def small_definition(execution_type: str) -> dict[str, Any]:
    """A Distributed Map over ``$.items`` with a Pass child."""
    return {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                              "ExecutionType": execution_type},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ResultPath": None, "End": True}}}


def _one(stack: LocalStack, sfn: Any, machine_arn: str, timeout: float) -> dict[str, float]:
    started = time.time()
    arn = sfn.start_execution(stateMachineArn=machine_arn,
                              input=json.dumps({"items": list(range(ITEMS))}))["executionArn"]
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise BenchError(f"latency: execution still RUNNING after {timeout:.0f}s")
        time.sleep(LOOK)
    if described["status"] != "SUCCEEDED":
        raise BenchError(f"latency: execution {described['status']}: {described.get('cause')}")
    run = _map_run(sfn, arn)
    line = child_timeline(stack, run["mapRunArn"])
    if line["child_records"] != ITEMS:
        raise BenchError(f"latency: {line['child_records']} child records, expected {ITEMS}")
    return {
        "to_maprun_start_s": run["startDate"].timestamp() - started,
        "to_first_child_s": line["first_child_start"] - started,
        "to_last_child_s": line["last_child_stop"] - started,
        "to_maprun_stop_s": run["stopDate"].timestamp() - started,
        "to_succeeded_s": described["stopDate"].timestamp() - started,
    }


def measure_latency(stack: LocalStack, execution_type: str, runs: int = 7,
                    timeout: float = 60.0) -> Figure:
    """Median phases of ``runs`` 100-item Pass Map Runs (one warm-up run not counted)."""
    sfn, _ = clients(stack)
    machine = sfn.create_state_machine(
        name=f"latency-{execution_type.lower()}-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(small_definition(execution_type)), type="STANDARD", roleArn=ROLE)
    _one(stack, sfn, machine["stateMachineArn"], timeout)
    client = redis_client(stack)
    try:
        with RedisCounts(client) as counts:
            samples = [_one(stack, sfn, machine["stateMachineArn"], timeout)
                       for _ in range(runs)]
    finally:
        client.close()
    extra: dict[str, Any] = {
        f"p50_{k}": statistics.median(s[k] for s in samples) for k in samples[0]}
    # Per Map Run, with the bench's own polling (a DescribeExecution every 10 ms) included.
    extra.update(counts.per(runs))
    extra["runs"] = runs
    extra["samples"] = samples
    seconds = extra["p50_to_succeeded_s"]
    return Figure(f"{ITEMS}-item Pass Map Run, {execution_type} children, p50 of {runs}",
                  ITEMS, seconds, "children/s", extra)

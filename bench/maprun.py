"""Map Run throughput measurements on a running local stack.

* :func:`measure_group`: the plain-Celery baseline, a ``group`` of no-op tasks on the same Redis
  and the same children workers.
* :func:`measure_batch1`: child executions/s of a Distributed Map with a Pass-only child, one
  item per child, items from a JSON array in S3.
* :func:`measure_csv`: items/s of a Distributed Map over a CSV in S3 with MaxItemsPerBatch and a
  ResultWriter, with the peak RSS of the control worker's process tree.

Every Map Run figure is timed from StartExecution to the execution's SUCCEEDED, as a user sees it.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench._stack import (
    BUCKET,
    ROLE,
    CpuMeter,
    RssSampler,
    clients,
    redis_client,
    tree_processes,
    worker_pids,
)
from bench.redis_counts import RedisCounts
from orchestrator.devstack.stack import LocalStack

POLL = 0.05


class BenchError(RuntimeError):
    """A measurement did not complete (timeout, FAILED execution, wrong counts)."""


@dataclass
class Figure:
    """One measurement: what, how many, how long, and extra details."""

    name: str
    count: int
    seconds: float
    unit: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


# -- plain Celery baseline ---------------------------------------------------------------------


def measure_group(stack: LocalStack, n: int, timeout: float = 300.0) -> Figure:
    """A Celery ``group`` of ``n`` no-op tasks on the children queue: publish and total time."""
    from celery import Celery, group, signature

    from orchestrator import messages

    settings = stack.settings
    assert settings is not None
    app = Celery("stepmap-bench")
    app.conf.update(messages.celery_config(settings.broker_url, settings.celery))
    queue = settings.celery.children_queue
    try:
        canvas = group(signature(messages.NOOP, queue=queue, app=app) for _ in range(n))
        client = redis_client(stack)
        counts = RedisCounts(client).__enter__()
        meter = CpuMeter(stack).__enter__()
        start = time.perf_counter()
        result = canvas.apply_async()
        published = time.perf_counter() - start
        # Poll the backend with one MGET per pass rather than .get() (a GET per task).
        remaining = [app.backend.get_key_for_task(r.id) for r in result.results]
        deadline = start + timeout
        while remaining:
            if time.perf_counter() > deadline:
                raise BenchError(f"group: {len(remaining)} of {n} no-op tasks not done after "
                                 f"{timeout:.0f}s")
            values: list[Any] = []
            for k in range(0, len(remaining), 5000):
                values += client.mget(remaining[k:k + 5000])
            remaining = [key for key, value in zip(remaining, values, strict=True) if value is None]
            if remaining:
                time.sleep(POLL)
        total = time.perf_counter() - start
        meter.__exit__()
        counts.__exit__()
        client.close()
    finally:
        app.close()
    return Figure("celery group (no-op)", n, total, "tasks/s",
                  {"publish_s": published, "publish_rate": n / published, "cpu": meter.used,
                   **counts.per(n)})


# -- Distributed Map runs ---------------------------------------------------------------------


def _run(sfn: Any, name: str, definition: dict[str, Any], execution_input: dict[str, Any],
         timeout: float) -> tuple[float, str, dict[str, Any]]:
    """Create the machine, start one execution, wait for it; (seconds, exec ARN, description)."""
    machine = sfn.create_state_machine(
        name=f"{name}-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
        type="STANDARD", roleArn=ROLE,
    )
    start = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                              input=json.dumps(execution_input))["executionArn"]
    deadline = start + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        if time.perf_counter() > deadline:
            raise BenchError(f"{name}: execution still RUNNING after {timeout:.0f}s "
                             f"({_progress(sfn, arn)})")
        time.sleep(POLL)
    seconds = time.perf_counter() - start
    if described["status"] != "SUCCEEDED":
        raise BenchError(f"{name}: execution {described['status']}: "
                         f"{described.get('error')}: {described.get('cause')}")
    return seconds, arn, described


def _progress(sfn: Any, arn: str) -> str:
    try:
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        if not runs:
            return "no Map Run yet"
        counts = sfn.describe_map_run(mapRunArn=runs[-1]["mapRunArn"])["itemCounts"]
        return "items " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        return f"progress unavailable: {exc}"


def _map_run(sfn: Any, arn: str) -> dict[str, Any]:
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    if not runs:
        raise BenchError("the execution has no Map Run")
    return sfn.describe_map_run(mapRunArn=runs[-1]["mapRunArn"])  # type: ignore[no-any-return]


def child_timeline(stack: LocalStack, map_run_arn: str) -> dict[str, float]:
    """Phases of a Map Run from its child records: first start, last stop, run time in children.

    Epoch seconds from the workers' clocks (same machine); the caller subtracts its own start.
    """
    client = redis_client(stack)
    try:
        key = f"{stack.settings.redis.key_prefix}:v1:mr:{map_run_arn}:children"  # type: ignore[union-attr]
        first, last, busy, n = float("inf"), 0.0, 0.0, 0
        for _, raw in client.hscan_iter(key, count=2000):
            rec = json.loads(raw)
            first, last = min(first, rec["start"]), max(last, rec["stop"])
            busy += rec["stop"] - rec["start"]
            n += 1
        return {"first_child_start": first, "last_child_stop": last, "child_busy_s": busy,
                "child_records": n}
    finally:
        client.close()


def batch1_definition(execution_type: str, *, reader: bool) -> dict[str, Any]:
    """Distributed Map, Pass child, one item per child, MaxConcurrency 0."""
    state: dict[str, Any] = {
        "Type": "Map",
        "MaxConcurrency": 0,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}},
        },
        "ResultPath": None,
        "End": True,
    }
    if reader:
        state["ItemReader"] = {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
        }
    else:
        state["ItemsPath"] = "$.items"
    return {"StartAt": "Fan", "States": {"Fan": state}}


def measure_batch1(stack: LocalStack, n: int, execution_type: str = "EXPRESS",
                   timeout: float = 600.0) -> Figure:
    """Child executions/s of a Pass child at one item per child over ``n`` items from S3 JSON."""
    sfn, s3 = clients(stack)
    key = f"bench/items-{n}.json"
    s3.put_object(Bucket=BUCKET, Key=key,
                  Body=json.dumps([{"id": i} for i in range(n)]).encode())
    client = redis_client(stack)
    try:
        with RedisCounts(client) as redis_counts, CpuMeter(stack) as meter:
            seconds, arn, _ = _run(sfn, f"batch1-{execution_type.lower()}",
                                   batch1_definition(execution_type, reader=True),
                                   {"bucket": BUCKET, "key": key}, timeout)
    finally:
        client.close()
    run = _map_run(sfn, arn)
    counts = run["executionCounts"]
    if counts["succeeded"] != n:
        raise BenchError(f"batch1: {counts['succeeded']} of {n} children succeeded: {counts}")
    extra: dict[str, Any] = {"map_run_arn": run["mapRunArn"], "cpu": meter.used,
                             **redis_counts.per(n)}
    extra.update(_phases(stack, run, seconds))
    return Figure(f"batch 1, {execution_type} children", n, seconds, "children/s", extra)


def _phases(stack: LocalStack, run: dict[str, Any], seconds: float) -> dict[str, Any]:
    """When the children ran relative to the Map Run's own start and stop."""
    line = child_timeline(stack, run["mapRunArn"])
    started = run["startDate"].timestamp()
    stopped = run["stopDate"].timestamp() if run.get("stopDate") else None
    out: dict[str, Any] = {
        "to_first_child_s": line["first_child_start"] - started,
        "children_span_s": line["last_child_stop"] - line["first_child_start"],
        "in_engine_s": line["child_busy_s"],
    }
    if stopped is not None:
        out["last_child_to_maprun_stop_s"] = stopped - line["last_child_stop"]
        out["maprun_s"] = stopped - started
    out["outside_maprun_s"] = seconds - out.get("maprun_s", seconds)
    return out


# -- CSV with ItemBatcher -------------------------------------------------------------------------


def make_csv(rows: int) -> bytes:
    """``id,name,amount`` with ``rows`` data rows (about 25 bytes a row)."""
    out = io.StringIO()
    out.write("id,name,amount\n")
    for i in range(rows):
        out.write(f"{i},item-{i % 9973},{(i * 7919) % 100000}\n")
    return out.getvalue().encode()


def csv_definition(batch: int, child: str = "count") -> dict[str, Any]:
    """Distributed Map over a CSV with MaxItemsPerBatch ``batch`` and a ResultWriter.

    ``child`` ``pass``: a bare Pass (the output is the whole batch); ``count``: a Pass whose
    output is the batch's item count (the child work stays trivial, the result files small).
    """
    if child == "pass":
        states: dict[str, Any] = {"P": {"Type": "Pass", "End": True}}
    else:
        states = {"P": {"Type": "Pass",
                        "Parameters": {"n.$": "States.ArrayLength($.Items)"}, "End": True}}
    return {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map",
        "MaxConcurrency": 0,
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
        },
        "ItemBatcher": {"MaxItemsPerBatch": batch},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "P", "States": states,
        },
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": BUCKET, "Prefix": "bench/results"}},
        "End": True,
    }}}


def upload_csv(stack: LocalStack, rows: int) -> str:
    """Upload a ``rows``-row CSV (once per stack); returns its key."""
    _, s3 = clients(stack)
    key = f"bench/rows-{rows}.csv"
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except Exception:  # noqa: BLE001 - not there yet
        s3.put_object(Bucket=BUCKET, Key=key, Body=make_csv(rows))
    return key


def wait_trimmed(roots: list[int], idle_seconds: float, most: float | None = None) -> None:
    """Wait for the worker's heap trim after a run: until the process trees' RSS falls by
    :data:`TRIM_DROP` or more (the trim), or ``most`` seconds (3 ``idle_seconds`` + 1).

    The worker trims its heap once it ran no task for ``idle_seconds``, looking every half of
    that: a fixed wait of 1.5 ``idle_seconds`` + 0.5 s after a 1M-row Map Run was not always
    enough (the trim came 2.8-4.8 s after the run's end), and a run that started untrimmed
    grew over its start by 0.1-0.4 MiB instead of 2.5-3.3. With no trim to come (nothing ran
    since the last), the wait is ``most``.
    """
    most = idle_seconds * 3 + 1 if most is None else most
    start = time.monotonic()
    first: int | None = None
    while time.monotonic() - start < most:
        try:
            rss = sum(p.memory_info().rss for p in tree_processes(roots))
        except psutil.NoSuchProcess:  # a process went away between the walk and the read
            rss = None
        if first is None:
            first = rss
        elif rss is not None and rss <= first - TRIM_DROP:
            return
        time.sleep(0.1)


#: What a heap trim after a Map Run gives back at least (it gave 2-3 MiB after 1M rows).
TRIM_DROP = 256 * 1024


def measure_csv(stack: LocalStack, rows: int, batch: int = 1000, child: str = "count",
                timeout: float = 900.0) -> Figure:
    """Items/s over a ``rows``-row CSV with peak RSS of the control worker's process tree."""
    from bench.csvbase import PendingMemorySampler

    sfn, _ = clients(stack)
    key = upload_csv(stack, rows)
    # Every run starts from the control worker's idle state, its heap trimmed (it trims once
    # idle celery.idle_trim_seconds, looking every half of that, as between any two runs): a run
    # started right after another began from that one's untrimmed heap, and only the 10M-row
    # run (started after its upload) was measured from a trimmed one (2.6 MiB over its idle RSS
    # against 0.1).
    assert stack.settings is not None
    wait_trimmed(worker_pids(stack, "control"), stack.settings.celery.idle_trim_seconds)
    with RssSampler(worker_pids(stack, "control")) as rss, CpuMeter(stack) as meter, \
            PendingMemorySampler(stack) as redis_memory:
        seconds, arn, described = _run(sfn, f"csv-{rows}", csv_definition(batch, child),
                                       {"bucket": BUCKET, "key": key}, timeout)
    run = _map_run(sfn, arn)
    items = run["itemCounts"]
    if items["succeeded"] != rows:
        raise BenchError(f"csv: {items['succeeded']} of {rows} items succeeded: {items}")
    details = json.loads(described["output"]).get("ResultWriterDetails", {})
    extra: dict[str, Any] = {
        "peak_rss_mb": rss.peak / 2**20, "start_rss_mb": rss.first / 2**20,
        "rss_samples": rss.samples, "rss_exact": rss.exact, "children": run["executionCounts"]["total"],
        "manifest": f"s3://{details.get('Bucket')}/{details.get('Key')}",
        "map_run_arn": run["mapRunArn"], "cpu": meter.used, **redis_memory.extra(),
    }
    extra.update(_phases(stack, run, seconds))
    return Figure(f"CSV {rows:,} rows, batch {batch}", rows, seconds, "items/s", extra)

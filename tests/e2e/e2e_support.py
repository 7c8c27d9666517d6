"""Helpers of the end-to-end tests: a real LocalStack driven through boto3.

Each test module gets its own :class:`LocalStack` (real redis-server, moto's S3 server, the API,
a control worker and children workers as processes) through :func:`make_stack`; tests share it
and keep apart by using fresh buckets, prefixes, machine names and probe namespaces.

The children workers import ``tests.e2e.handlers.probe`` (a namespace package: the repository
root is on their ``PYTHONPATH``), whose handlers record concurrency, start/stop times and
successful runs in the stack's Redis under ``probe:{ns}:*``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis

from orchestrator.devstack.stack import LocalStack

REPO = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::000000000000:role/stepmap-e2e"
HANDLER_MODULES = '["workers.handlers.examples","tests.e2e.handlers.probe"]'
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_CREDS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


@dataclass
class E2E:
    """One running stack with its clients and helpers."""

    stack: LocalStack
    sfn: Any
    s3: Any
    redis: redis.Redis

    # -- naming -------------------------------------------------------------------------

    @staticmethod
    def unique(prefix: str) -> str:
        """A fresh name (machines, buckets, probe namespaces)."""
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def bucket(self) -> str:
        """A fresh, empty bucket."""
        name = self.unique("e2e")
        self.s3.create_bucket(Bucket=name)
        return name

    # -- machines and executions ----------------------------------------------------------

    def create_machine(self, definition: Mapping[str, Any] | str, *, name: str | None = None,
                       type: str = "STANDARD") -> str:
        """Create a state machine; returns its ARN."""
        text = definition if isinstance(definition, str) else json.dumps(definition)
        out = self.sfn.create_state_machine(name=name or self.unique("sm"), definition=text,
                                            roleArn=ROLE, type=type)
        return str(out["stateMachineArn"])

    def start(self, machine_arn: str, payload: Any) -> str:
        """Start an execution; returns its ARN."""
        out = self.sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload))
        return str(out["executionArn"])

    def run(self, definition: Mapping[str, Any] | str, payload: Any, *,
            timeout: float = 60.0) -> dict[str, Any]:
        """Create a machine, start it and wait for its end; returns DescribeExecution."""
        return self.wait(self.start(self.create_machine(definition), payload), timeout=timeout)

    def wait(self, execution_arn: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """DescribeExecution once the execution is terminal (fails the test on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.sfn.describe_execution(executionArn=execution_arn)
            if out["status"] in TERMINAL:
                return dict(out)
            if time.monotonic() > deadline:
                dead = [p.name for p in self.stack.dead()]
                pytest.fail(f"{execution_arn} still {out['status']} after {timeout:g}s "
                            f"(dead processes: {dead}); map runs: {self.map_runs(execution_arn)}")
            time.sleep(0.1)

    def map_runs(self, execution_arn: str) -> list[dict[str, Any]]:
        """DescribeMapRun of every Map Run of an execution."""
        runs = self.sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
        return [dict(self.sfn.describe_map_run(mapRunArn=r["mapRunArn"])) for r in runs]

    def wait_map_run(self, execution_arn: str, *, timeout: float = 30.0) -> str:
        """The ARN of the execution's first Map Run, once it exists."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
            if runs:
                return str(runs[0]["mapRunArn"])
            time.sleep(0.05)
        pytest.fail(f"no Map Run for {execution_arn} after {timeout:g}s")

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every history event of an execution, oldest first (follows nextToken)."""
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def children(self, map_run_arn: str, status: str | None = None) -> list[dict[str, Any]]:
        """Every child execution of a Map Run (ListExecutions by mapRunArn, all pages)."""
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"mapRunArn": map_run_arn, "maxResults": 1000}
        if status:
            kwargs["statusFilter"] = status
        while True:
            page = self.sfn.list_executions(**kwargs)
            out.extend(page["executions"])
            if not page.get("nextToken"):
                return out
            kwargs["nextToken"] = page["nextToken"]

    # -- S3 ----------------------------------------------------------------------------------

    def get_json(self, bucket: str, key: str) -> Any:
        """An S3 object parsed as JSON."""
        return json.loads(self.get_text(bucket, key))

    def get_text(self, bucket: str, key: str) -> str:
        """An S3 object as text."""
        return str(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())

    def manifest(self, output: Mapping[str, Any]) -> dict[str, Any]:
        """The manifest named by a ResultWriter state result."""
        details = output["ResultWriterDetails"]
        return dict(self.get_json(details["Bucket"], details["Key"]))

    def result_records(self, manifest: Mapping[str, Any], category: str) -> list[Any]:
        """Every record of the result files of one category (JSON arrays or JSON Lines)."""
        records: list[Any] = []
        for entry in manifest["ResultFiles"][category]:
            text = self.get_text(manifest["DestinationBucket"], entry["Key"])
            assert len(text.encode()) == entry["Size"]
            if entry["Key"].endswith(".jsonl"):
                records.extend(json.loads(line) for line in text.splitlines() if line)
            else:
                records.extend(json.loads(text))
        return records

    # -- probe records -----------------------------------------------------------------------

    def probe(self, ns: str, name: str) -> list[dict[str, Any]]:
        """The JSON lines a probe handler recorded (``starts`` or ``done``)."""
        return [json.loads(x) for x in self.redis.lrange(f"probe:{ns}:{name}", 0, -1)]

    def wait_done(self, ns: str, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` probe handlers of ``ns`` have ended (fails the test after
        ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while self.redis.llen(f"probe:{ns}:done") < count:
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {count} children of {ns} done after {timeout:g}s")
            time.sleep(0.02)

    def probe_peak(self, ns: str) -> int:
        """The highest concurrency the probe handlers of ``ns`` saw."""
        return int(self.redis.get(f"probe:{ns}:peak") or 0)


def make_stack(settings_overrides: Mapping[str, Any] | None = None, *, workers: int = 1,
               concurrency: int = 4, worker_env: Mapping[str, str] | None = None,
               pool: str | None = None) -> Iterator[E2E]:
    """Start a LocalStack with the probe handlers loaded; yields an :class:`E2E`.

    ``pool``: the workers' Celery pool (prefork when None).
    """
    env = {"PYTHONPATH": str(REPO), "STEPMAP_HANDLER_MODULES": HANDLER_MODULES,
           **(worker_env or {})}
    stack = LocalStack(settings_overrides, workers=workers, concurrency=concurrency,
                       worker_env=env, cwd=REPO, loglevel="WARNING", stop_timeout=5.0,
                       pool=pool)
    stack.start()
    client = redis.Redis.from_url(stack.redis_url)
    try:
        yield E2E(
            stack=stack,
            sfn=boto3.client("stepfunctions", endpoint_url=stack.api_url, **_CREDS),
            s3=boto3.client("s3", endpoint_url=stack.s3_url, **_CREDS),
            redis=client,
        )
    finally:
        client.close()
        stack.stop()


def distributed_map(processor_states: Mapping[str, Any], start_at: str, **fields: Any) -> dict[str, Any]:
    """A one-state machine whose state ``Map`` is a Distributed Map with ``fields``."""
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED",
                                "ExecutionType": fields.pop("ExecutionType", "STANDARD")},
            "StartAt": start_at,
            "States": dict(processor_states),
        },
        "End": True,
    }
    state.update(fields)
    return {"StartAt": "Map", "States": {"Map": state}}


def probe_task(handler: str = "probe-gauge") -> dict[str, Any]:
    """A Task state calling a probe handler with the child's input, returning its payload."""
    return {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": handler, "Payload.$": "$"},
                     "OutputPath": "$.Payload", "End": True}}


def scrape_metrics(api_url: str) -> dict[str, float]:
    """``/metrics`` as {series: value} (series = name plus its label text)."""
    import httpx

    response = httpx.get(f"{api_url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    series: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = float(value)
    return series


def counts_add_up(counts: Mapping[str, int]) -> bool:
    """pending + running + succeeded + failed + timedOut + aborted == total."""
    parts = ("pending", "running", "succeeded", "failed", "timedOut", "aborted")
    return sum(counts[k] for k in parts) == counts["total"]

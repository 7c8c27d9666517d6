"""``python -m bench.admission``: a burst of Map Runs without and with an open-Map-Run limit.

One stack, two phases in one run: ``--runs`` executions of a one-state Distributed Map (Pass
children, ``--items`` each, MaxConcurrency 0) started at once (8 client threads), first with no
limit (``PUT /v1/admission {"openMapRunLimit": 0}``), then under ``--limit``. For each phase:
the wall time until every execution SUCCEEDED, the most Map Runs open at once (sampled from
``GET /v1/admission``), the control worker's peak RSS (process tree) and Redis's peak
``used_memory``. Ratios are limited / unlimited, measured in this one run.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench._stack import ROLE, RssSampler, StackOptions, clients, redis_client, start_stack, worker_pids

POLL = 0.05


class Peaks:
    """Samples the open Map Run count and Redis memory in a thread."""

    def __init__(self, api_url: str, redis: Any) -> None:
        self.api_url = api_url
        self.redis = redis
        self.open = 0
        self.redis_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="peaks")

    def _loop(self) -> None:
        with httpx.Client(base_url=self.api_url, timeout=30) as client:
            while not self._stop.is_set():
                state = client.get("/v1/admission").json()
                self.open = max(self.open, int(state["openMapRuns"]))
                used = int(self.redis.info("memory")["used_memory"])
                self.redis_bytes = max(self.redis_bytes, used)
                self._stop.wait(POLL)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def definition() -> dict[str, Any]:
    """A Distributed Map over ``$.items`` with a Pass child, MaxConcurrency 0."""
    return {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0, "ResultPath": None,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True}}}


def phase(stack: Any, sfn: Any, limit: int, runs: int, items: int,
          timeout: float) -> dict[str, Any]:
    """Start ``runs`` executions at once under ``limit`` (0: none); wait for all of them."""
    answer = httpx.put(f"{stack.api_url}/v1/admission", json={"openMapRunLimit": limit},
                       timeout=30)
    answer.raise_for_status()
    machine = sfn.create_state_machine(name=f"adm-{uuid.uuid4().hex[:8]}", roleArn=ROLE,
                                       definition=json.dumps(definition()))["stateMachineArn"]
    payload = json.dumps({"items": list(range(items))})
    client = redis_client(stack)
    with Peaks(stack.api_url, client) as peaks, \
            RssSampler(worker_pids(stack, "control")) as rss:
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            arns = list(pool.map(lambda _: sfn.start_execution(
                stateMachineArn=machine, input=payload)["executionArn"], range(runs)))
        pending = set(arns)
        deadline = start + timeout
        while pending:
            for arn in list(pending):
                status = sfn.describe_execution(executionArn=arn)["status"]
                if status == "SUCCEEDED":
                    pending.discard(arn)
                elif status != "RUNNING":
                    raise RuntimeError(f"{arn} ended {status}")
            if pending and time.perf_counter() > deadline:
                raise RuntimeError(f"{len(pending)} executions still running after {timeout}s")
            time.sleep(0.2)
        seconds = time.perf_counter() - start
    client.close()
    return {"limit": limit, "seconds": seconds, "peak_open": peaks.open,
            "control_rss_mib": rss.peak / 2**20, "redis_mib": peaks.redis_bytes / 2**20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="Map Runs started at once")
    parser.add_argument("--items", type=int, default=20, help="children of each Map Run")
    parser.add_argument("--limit", type=int, default=10, help="open-Map-Run limit, phase 2")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per phase")
    args = parser.parse_args(argv)
    stack = start_stack(StackOptions(workers=2, concurrency=2, control_concurrency=2))
    try:
        sfn, _ = clients(stack)
        free = phase(stack, sfn, 0, args.runs, args.items, args.timeout)
        held = phase(stack, sfn, args.limit, args.runs, args.items, args.timeout)
    finally:
        stack.stop()
    for row in (free, held):
        print(f"limit {row['limit'] or 'none':>4}: {args.runs} Map Runs x {args.items} children "
              f"in {row['seconds']:.2f} s, at most {row['peak_open']} open, control RSS peak "
              f"{row['control_rss_mib']:.0f} MiB, Redis peak {row['redis_mib']:.1f} MiB")
    print(f"ratios limited/unlimited: wall {held['seconds'] / free['seconds']:.2f}, control RSS "
          f"{held['control_rss_mib'] / free['control_rss_mib']:.2f}, Redis "
          f"{held['redis_mib'] / free['redis_mib']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

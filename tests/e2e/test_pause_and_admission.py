"""Pause, resume and admission (stepmap extensions) on real processes.

What a paused Map Run dispatches is measured from inside the children (the probe handlers log
every start in Redis) and from the store (permits and child statuses), never by sleeping and
hoping: "nothing is dispatched while paused" is checked after the reconciler has had two passes
over the paused run, which the liveness sweep makes visible (it touches the parent in the
open-execution index right after each pass: ``limits.stranded_execution_seconds`` is 1 s here).
The admission limit is checked from each Map Run's admission and stop dates, which the store
writes in the same atomic steps that open and close a slot.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import redis

from e2e_support import E2E, distributed_map, make_stack, probe_task, scrape_metrics
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"stranded_execution_seconds": 1}}, workers=2,
                          concurrency=4)


@pytest.fixture(autouse=True)
def settings_limit(e2e: E2E) -> Iterator[None]:
    yield
    _v1(e2e, "PUT", "/v1/admission", {"useSettingsLimit": True})


def _keys(e2e: E2E) -> Keys:
    assert e2e.stack.settings is not None
    return Keys(e2e.stack.settings.redis.key_prefix)


def _store(e2e: E2E) -> RedisMapRunStore:
    return RedisMapRunStore(redis.Redis.from_url(e2e.stack.redis_url), _keys(e2e))


def _v1(e2e: E2E, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, e2e.stack.api_url + path, json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _aws(e2e: E2E, operation: str, body: dict[str, Any]) -> Any:
    """An AWS-face call by target name (the stepmap operations are not in any SDK)."""
    response = httpx.post(e2e.stack.api_url + "/", content=json.dumps(body), timeout=30,
                          headers={"X-Amz-Target": f"AWSStepFunctions.{operation}",
                                   "Content-Type": "application/x-amz-json-1.0"})
    assert response.status_code == 200, response.text
    return response.json()


def _machine(e2e: E2E, ns: str, handler: str, *, concurrency: int, sleep: float) -> str:
    definition = distributed_map(probe_task(handler), "Work", MaxConcurrency=concurrency,
                                 ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value",
                                               "sleep": sleep})
    return e2e.create_machine(definition)


def _until(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {timeout:g}s")
        time.sleep(0.05)


def _settled(store: RedisMapRunStore, arn: str) -> set[int]:
    """Wait until every child holding a permit has ended; returns the dispatched children."""
    def quiet() -> set[int] | None:
        run = store.get(arn)
        assert run is not None
        ended = {i for i, st in enumerate(store.child_statuses(arn, range(run.feed.next)))
                 if st is not None}
        return ended if not store.running_indexes(arn) else None

    return _until("running children of the paused run end", quiet)


def _two_reconciler_passes(e2e: E2E, execution_arn: str) -> None:
    """Wait for two liveness-sweep touches of the parent after now (each follows a pass)."""
    index = _keys(e2e).open_executions()
    mark = time.time()
    for _ in range(2):
        def touched(after: float = mark) -> float | None:
            score = e2e.redis.zscore(index, execution_arn)
            assert score is not None, "the paused run's parent left the open index"
            return score if score > after else None

        mark = _until("a reconciler pass over the paused run", touched, timeout=30)


def _started(e2e: E2E, ns: str) -> list[Any]:
    return [s["id"] for s in e2e.probe(ns, "starts")]


def test_a_paused_map_run_dispatches_nothing_and_resumes_where_it_was(e2e: E2E) -> None:
    ns = e2e.unique("pause")
    store = _store(e2e)
    execution = e2e.start(_machine(e2e, ns, "probe-gauge", concurrency=4, sleep=0.2),
                          list(range(60)))
    map_run = e2e.wait_map_run(execution)
    _until("12 children done", lambda: e2e.redis.llen(f"probe:{ns}:done") >= 12)
    # When it is paused (the /v1 face)
    paused = _v1(e2e, "POST", f"/v1/map-runs/{map_run}:pause")
    assert paused["paused"] is True
    # Then the children dispatched before the pause end and are recorded, and no other starts
    dispatched = _settled(store, map_run)
    _two_reconciler_passes(e2e, execution)
    items, _ = store.counters(map_run)
    assert items.succeeded == len(dispatched) and items.running == 0
    assert sorted(_started(e2e, ns)) == sorted(dispatched)
    assert len(e2e.sfn.list_map_runs(executionArn=execution)["mapRuns"]) == 1
    described = e2e.sfn.describe_map_run(mapRunArn=map_run)
    assert described["status"] == "RUNNING"  # an SDK parses it; the extension member is skipped
    raw = _aws(e2e, "DescribeMapRun", {"mapRunArn": map_run})
    assert raw["stepmap"]["paused"] is True and raw["stepmap"]["pausedSeconds"] > 0
    print(f"\npaused with {len(dispatched)} of 60 children dispatched; none started after")
    # When it is resumed (the AWS face), every item runs exactly once and MaxConcurrency held
    resumed = _aws(e2e, "StepmapResumeMapRun", {"mapRunArn": map_run})
    assert resumed["paused"] is False
    assert e2e.wait(execution, timeout=90)["status"] == "SUCCEEDED"
    starts = Counter(_started(e2e, ns))
    assert sorted(starts) == list(range(60)) and set(starts.values()) == {1}
    assert e2e.probe_peak(ns) <= 4
    ext = _aws(e2e, "DescribeMapRun", {"mapRunArn": map_run})["stepmap"]
    assert ext["paused"] is False and ext["pausedSeconds"] >= 1


def _overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at once (an end at the same instant as a start comes first)."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def test_fifty_map_runs_started_at_once_wait_for_admission_and_all_finish(e2e: E2E) -> None:
    ns = e2e.unique("adm")
    store = _store(e2e)
    assert _v1(e2e, "PUT", "/v1/admission", {"openMapRunLimit": 5})["openMapRunLimit"] == 5
    machines = [_machine(e2e, ns, "probe-gate", concurrency=1, sleep=0.05) for _ in range(2)]
    # Given 50 executions of two state machines started at once, whose children wait on a gate
    with ThreadPoolExecutor(10) as pool:
        executions = list(pool.map(lambda n: e2e.start(machines[n % 2], [2 * n, 2 * n + 1]),
                                   range(50)))
    _until("50 Map Runs exist", lambda: (lambda s: s["openMapRuns"] + s["backlogSize"] == 50)(
        _v1(e2e, "GET", "/v1/admission")), timeout=60)
    # Then 5 are open and 45 queued, shown as RUNNING with their places, and in the metrics
    map_runs = [e2e.wait_map_run(arn) for arn in executions]
    exts = [_v1(e2e, "GET", f"/v1/map-runs/{arn}")["stepmap"] for arn in map_runs]
    assert sum(not x["queued"] for x in exts) == 5
    assert sorted(x["queuePosition"] for x in exts if x["queued"]) == list(range(1, 46))
    metrics = scrape_metrics(e2e.stack.api_url)
    assert metrics["stepmap_open_map_runs_limit"] == 5
    assert metrics["stepmap_open_map_runs"] == 5
    assert metrics["stepmap_map_run_backlog"] == 45
    statuses = {e2e.sfn.describe_map_run(mapRunArn=arn)["status"] for arn in map_runs}
    assert statuses == {"RUNNING"}
    # When the gate opens, every run finishes, and never more than 5 were open at once
    e2e.redis.set(f"probe:{ns}:gate", "1")
    for arn in executions:
        assert e2e.wait(arn, timeout=180)["status"] == "SUCCEEDED"
    runs = [store.get(arn) for arn in map_runs]
    intervals = [(r.admitted_at, r.stop_date) for r in runs
                 if r is not None and r.admitted_at is not None and r.stop_date is not None]
    assert len(intervals) == 50
    assert _overlap(intervals) == 5
    # From inside the handlers: one child per run at a time, 5 runs (all at the gate) at most
    assert e2e.probe_peak(ns) == 5
    starts = Counter(_started(e2e, ns))
    assert sorted(starts) == list(range(100)) and set(starts.values()) == {1}
    assert _v1(e2e, "GET", "/v1/admission")["backlogSize"] == 0


def test_a_killed_control_worker_and_restarted_api_and_redis_lose_no_paused_or_queued_state(
        e2e: E2E) -> None:
    ns = e2e.unique("keep")
    store = _store(e2e)
    _v1(e2e, "PUT", "/v1/admission", {"openMapRunLimit": 1})
    machine = _machine(e2e, ns, "probe-gauge", concurrency=2, sleep=0.1)
    first = e2e.start(machine, list(range(30)))
    first_run = e2e.wait_map_run(first)
    second = e2e.start(machine, list(range(100, 110)))
    second_run = e2e.wait_map_run(second)
    _until("6 children done", lambda: e2e.redis.llen(f"probe:{ns}:done") >= 6)
    _aws(e2e, "StepmapPauseMapRun", {"mapRunArn": first_run})
    dispatched = _settled(store, first_run)
    before = store.counters(first_run)
    # When every process that holds state restarts: control worker killed, API killed, Redis
    e2e.stack.restart_worker("control", kill=True)
    e2e.stack.restart_api()
    e2e.stack.restart_redis(down_seconds=0.5)
    _two_reconciler_passes(e2e, first)
    # Then the first run is still paused where it was, the second still queued, the limit kept
    assert store.counters(first_run) == before
    assert sorted(_started(e2e, ns)) == sorted(dispatched)
    assert _v1(e2e, "GET", f"/v1/map-runs/{first_run}")["stepmap"]["paused"] is True
    ext = _v1(e2e, "GET", f"/v1/map-runs/{second_run}")["stepmap"]
    assert (ext["queued"], ext["queuePosition"]) == (True, 1)
    admission = _v1(e2e, "GET", "/v1/admission")
    assert (admission["openMapRunLimit"], admission["limitSource"]) == (1, "live")
    # When resumed, both finish, each item exactly once
    _v1(e2e, "POST", f"/v1/map-runs/{first_run}:resume")
    assert e2e.wait(first, timeout=90)["status"] == "SUCCEEDED"
    assert e2e.wait(second, timeout=90)["status"] == "SUCCEEDED"
    starts = Counter(_started(e2e, ns))
    assert sorted(starts) == [*range(30), *range(100, 110)] and set(starts.values()) == {1}

"""The Distributed Map runtime's invariants (docs/architecture.md), proven on real processes.

The children record what they see themselves (``tests/e2e/handlers/probe.py``): how many of
them run at once, when each started and stopped, and which ones completed. The stack runs two
children workers with six pool processes each, so there are always more worker slots than
permits and only the Map Run's semaphore can hold concurrency down. Leases are 3 s and the
children's broker visibility timeout 10 s, so the work of a killed worker comes back quickly.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_support import E2E, counts_add_up, distributed_map, make_stack, probe_task

pytestmark = pytest.mark.slow

LIMIT_ERROR = "States.ExceedToleratedFailureThreshold"
LIMIT_CAUSE = "The specified tolerated failure threshold was exceeded"


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"lease_seconds": 3}}, workers=2, concurrency=6,
                          worker_env={"STEPMAP_CELERY__VISIBILITY_TIMEOUT": "10"})


def _probe_map(ns: str, handler: str = "probe-gauge", **fields: Any) -> dict[str, Any]:
    """A Distributed Map over ``[0, 1, ...]`` whose child input is ``{"probe", "id", **extra}``."""
    extra = fields.pop("extra", {})
    return distributed_map(probe_task(handler), "Work",
                           ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value", **extra},
                           **fields)


def _wait_done(e2e: E2E, ns: str, count: int, timeout: float = 30.0) -> None:
    e2e.wait_done(ns, count, timeout)


# -- (1) MaxConcurrency ------------------------------------------------------------------------

def test_max_concurrency_holds_and_an_update_applies_to_later_children(e2e: E2E) -> None:
    ns = e2e.unique("conc")
    arn = e2e.start(e2e.create_machine(_probe_map(ns, MaxConcurrency=4, extra={"sleep": 0.2})),
                    list(range(60)))
    map_run = e2e.wait_map_run(arn)
    _wait_done(e2e, ns, 12)
    e2e.sfn.update_map_run(mapRunArn=map_run, maxConcurrency=2)
    updated = time.time()
    # While it runs, every DescribeMapRun snapshot adds up and never shows more than 4 running.
    snapshots = []
    while e2e.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        snapshots.append(e2e.sfn.describe_map_run(mapRunArn=map_run))
        time.sleep(0.05)
    described = e2e.wait(arn, timeout=60)
    assert len(snapshots) > 10
    for snap in snapshots:
        assert counts_add_up(snap["itemCounts"]) and counts_add_up(snap["executionCounts"]), snap
        assert snap["executionCounts"]["running"] <= 4, snap

    assert described["status"] == "SUCCEEDED", described
    starts = e2e.probe(ns, "starts")
    assert len(starts) == 60
    before = [s["running"] for s in starts if s["t"] < updated]
    after = [s["running"] for s in starts if s["t"] > updated + 1.0]
    print(f"\nMaxConcurrency 4: peak {max(before)} over {len(before)} starts; after update to 2: "
          f"peak {max(after)} over {len(after)} starts")
    assert e2e.probe_peak(ns) == max(before) == 4
    assert len(after) >= 20
    assert max(after) == 2
    run = e2e.sfn.describe_map_run(mapRunArn=map_run)
    assert run["maxConcurrency"] == 2
    assert run["itemCounts"]["succeeded"] == run["itemCounts"]["total"] == 60


# -- (2) no convoy ------------------------------------------------------------------------------

def test_one_slow_child_does_not_hold_back_the_others(e2e: E2E) -> None:
    # Child 0 holds its slot until the 49 others have ended (``probe-holdout``): a convoy
    # (refilling a group's slots only once its slowest child ends) could never let them end, so
    # the slow child would give up with Probe.Convoy. No clock is read: the proof is the order
    # of events seen from inside the handlers, whatever the machine's load.
    ns = e2e.unique("convoy")
    definition = _probe_map(ns, "probe-holdout", MaxConcurrency=10,
                            extra={"sleep": 0.1, "slow_ids": [0], "others": 49})
    described = e2e.run(definition, list(range(50)), timeout=150)

    assert described["status"] == "SUCCEEDED", described
    done = [d["id"] for d in e2e.probe(ns, "done")]
    assert sorted(done) == list(range(50))
    assert done[-1] == 0  # the slow child ended last, after every other one
    assert e2e.probe_peak(ns) <= 10


def test_one_slow_child_does_not_hold_back_the_others_without_a_concurrency_limit(e2e: E2E) -> None:
    # MaxConcurrency 0 (up to 10,000 children at once): several children travel in one message.
    # Packing must not serialise them behind the slow one: child 0 holds its slot until the 29
    # others have ended, which they cannot do if they wait behind it.
    ns = e2e.unique("convoy0")
    definition = _probe_map(ns, "probe-holdout", MaxConcurrency=0,
                            extra={"sleep": 0.1, "slow_ids": [0], "others": 29})
    described = e2e.run(definition, list(range(30)), timeout=150)

    assert described["status"] == "SUCCEEDED", described
    done = [d["id"] for d in e2e.probe(ns, "done")]
    assert sorted(done) == list(range(30))
    assert done[-1] == 0


# -- (5) tolerated failure ------------------------------------------------------------------------

def test_failures_beyond_the_tolerated_count_fail_the_map_run(e2e: E2E) -> None:
    ns = e2e.unique("count")
    definition = _probe_map(ns, "probe-fail", MaxConcurrency=1, ToleratedFailureCount=2,
                            extra={"fail_ids": [3, 5, 7]})
    described = e2e.run(definition, list(range(10)), timeout=60)

    assert described["status"] == "FAILED"
    assert described["error"] == LIMIT_ERROR
    assert described["cause"] == LIMIT_CAUSE
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["status"] == "FAILED"
    assert run["toleratedFailureCount"] == 2
    counts = run["itemCounts"]
    # MaxConcurrency 1: items run one by one and the run stops at the third failure (item 7).
    assert (counts["failed"], counts["succeeded"], counts["pending"], counts["running"],
            counts["aborted"], counts["total"]) == (3, 5, 2, 0, 0, 10)
    assert counts_add_up(counts) and counts_add_up(run["executionCounts"])
    assert sorted(d["id"] for d in e2e.probe(ns, "done")) == [0, 1, 2, 4, 6]

    events = e2e.history(described["executionArn"])
    types = [e["type"] for e in events]
    assert types[-4:] == ["MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    assert events[-3]["mapRunFailedEventDetails"] == {"error": LIMIT_ERROR, "cause": LIMIT_CAUSE}
    assert events[-1]["executionFailedEventDetails"] == {"error": LIMIT_ERROR, "cause": LIMIT_CAUSE}
    failed = e2e.children(run["mapRunArn"], status="FAILED")
    assert len(failed) == 3
    errors = {e2e.sfn.describe_execution(executionArn=c["executionArn"])["error"] for c in failed}
    assert errors == {"Probe.Failure"}


def test_failures_within_the_tolerated_percentage_let_the_map_run_succeed(e2e: E2E) -> None:
    ns = e2e.unique("pct-ok")
    definition = _probe_map(ns, "probe-fail", MaxConcurrency=3, ToleratedFailurePercentage=20,
                            extra={"fail_ids": [2, 8]})
    described = e2e.run(definition, list(range(10)), timeout=60)

    assert described["status"] == "SUCCEEDED", described
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["toleratedFailurePercentage"] == 20.0
    assert (run["itemCounts"]["succeeded"], run["itemCounts"]["failed"]) == (8, 2)
    output = json.loads(described["output"])
    assert [o.get("Error") for o in output] == [
        "Probe.Failure" if i in (2, 8) else None for i in range(10)]
    assert [o["out"] for i, o in enumerate(output) if i not in (2, 8)] == [
        i * 10 for i in range(10) if i not in (2, 8)]


def test_failures_beyond_the_tolerated_percentage_fail_the_map_run(e2e: E2E) -> None:
    ns = e2e.unique("pct-bad")
    definition = _probe_map(ns, "probe-fail", MaxConcurrency=3, ToleratedFailurePercentage=20,
                            extra={"fail_ids": [1, 4, 7]})
    described = e2e.run(definition, list(range(10)), timeout=60)

    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", LIMIT_ERROR, LIMIT_CAUSE)
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["status"] == "FAILED"
    assert run["itemCounts"]["failed"] == 3
    assert counts_add_up(run["itemCounts"])


def test_a_failed_map_run_stops_dispatching_and_aborts_running_standard_children(e2e: E2E) -> None:
    # No tolerance: the first failure (item 0, instant) fails the Map Run while items 1-4 sleep.
    ns = e2e.unique("abort")
    definition = _probe_map(ns, "probe-fail", MaxConcurrency=5,
                            extra={"fail_ids": [0], "sleep.$": "$$.Map.Item.Index"})
    described = e2e.run(definition, list(range(20)), timeout=60)

    assert (described["status"], described["error"]) == ("FAILED", LIMIT_ERROR)
    (run,) = e2e.map_runs(described["executionArn"])
    counts = run["itemCounts"]
    assert counts_add_up(counts) and counts_add_up(run["executionCounts"])
    assert (counts["failed"], counts["running"], counts["total"]) == (1, 0, 20)
    # Nothing beyond the first wave ever started: nothing is dispatched once the run has
    # failed (and a dispatched child that had not started yet is aborted without running).
    starts = sorted(s["id"] for s in e2e.probe(ns, "starts"))
    assert 0 in starts and set(starts) <= {0, 1, 2, 3, 4}, starts
    assert counts["succeeded"] + counts["aborted"] == 4
    assert counts["aborted"] >= 3  # items 2-4 sleep 2-4 s, far beyond the failure
    assert counts["pending"] == 15
    aborted = e2e.children(run["mapRunArn"], status="ABORTED")
    assert len(aborted) == counts["aborted"]


def test_a_failed_express_map_run_lets_running_children_finish(e2e: E2E) -> None:
    ns = e2e.unique("express")
    definition = _probe_map(ns, "probe-fail", MaxConcurrency=4, ExecutionType="EXPRESS",
                            extra={"fail_ids": [0], "sleep.$": "$$.Map.Item.Index"})
    described = e2e.run(definition, list(range(12)), timeout=60)

    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", LIMIT_ERROR, LIMIT_CAUSE)
    (run,) = e2e.map_runs(described["executionArn"])
    counts = run["itemCounts"]
    # EXPRESS children cannot be stopped: items 1-3 (sleeping 1-3 s) finish and count.
    assert (counts["failed"], counts["succeeded"], counts["aborted"], counts["running"],
            counts["pending"], counts["total"]) == (1, 3, 0, 0, 8, 12)
    assert sorted(d["id"] for d in e2e.probe(ns, "done")) == [1, 2, 3]


def test_a_catch_routes_the_exceeded_threshold_to_another_state(e2e: E2E) -> None:
    ns = e2e.unique("catch")
    definition = _probe_map(ns, "probe-fail", MaxConcurrency=1, ItemsPath="$.items",
                            extra={"fail_ids": [1]})
    definition["States"]["Map"].pop("End")
    definition["States"]["Map"]["Next"] = "Done"
    definition["States"]["Map"]["Catch"] = [{"ErrorEquals": [LIMIT_ERROR], "ResultPath": "$.caught",
                                             "Next": "Recovered"}]
    definition["States"]["Done"] = {"Type": "Succeed"}
    definition["States"]["Recovered"] = {"Type": "Pass", "Result": "recovered",
                                         "ResultPath": "$.note", "End": True}
    described = e2e.run(definition, {"items": [0, 1, 2]}, timeout=60)

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {
        "items": [0, 1, 2], "caught": {"Error": LIMIT_ERROR, "Cause": LIMIT_CAUSE}, "note": "recovered"}
    types = [e["type"] for e in e2e.history(described["executionArn"])]
    assert "MapRunFailed" in types and "PassStateEntered" in types


# -- (3)+(6) crashes and restarts -----------------------------------------------------------------

CRASH_ITEMS = 60


def _crash_definition(ns: str, bucket: str) -> dict[str, Any]:
    return _probe_map(ns, MaxConcurrency=6, extra={"sleep": 0.3}, ResultWriter={
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": bucket, "Prefix": "crash"}})


def _result_set(e2e: E2E, described: dict[str, Any]) -> tuple[set[tuple[int, str]], list[dict[str, Any]]]:
    """{(child input, child output)} of the SUCCEEDED result files, and every record."""
    manifest = e2e.manifest(json.loads(described["output"]))
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    records = e2e.result_records(manifest, "SUCCEEDED")
    return {(json.loads(r["Input"])["id"], r["Output"]) for r in records}, records


@pytest.fixture(scope="module")
def undisturbed(e2e: E2E) -> set[tuple[int, str]]:
    """The result set of the crash definition when nothing goes wrong."""
    ns = e2e.unique("calm")
    described = e2e.run(_crash_definition(ns, e2e.bucket()), list(range(CRASH_ITEMS)), timeout=60)
    assert described["status"] == "SUCCEEDED", described
    results, _ = _result_set(e2e, described)
    assert len(results) == CRASH_ITEMS
    return results


def _assert_exactly_once(e2e: E2E, described: dict[str, Any], ns: str, disturbed_at: float,
                         undisturbed: set[tuple[int, str]], may_rerun: set[int]) -> None:
    assert described["status"] == "SUCCEEDED", described
    (run,) = e2e.map_runs(described["executionArn"])
    for counts in (run["itemCounts"], run["executionCounts"]):
        assert (counts["succeeded"], counts["total"], counts["resultsWritten"], counts["failed"],
                counts["aborted"], counts["pending"], counts["running"]) == (
            CRASH_ITEMS, CRASH_ITEMS, CRASH_ITEMS, 0, 0, 0, 0)
    results, records = _result_set(e2e, described)
    assert len(records) == CRASH_ITEMS
    assert len({r["ExecutionArn"] for r in records}) == CRASH_ITEMS
    assert results == undisturbed
    children = e2e.children(run["mapRunArn"])
    assert len(children) == CRASH_ITEMS
    assert {c["status"] for c in children} == {"SUCCEEDED"}

    # A STANDARD child that succeeded never runs again: every item has exactly one successful
    # run, except the children that were running inside a killed worker (``may_rerun``), whose
    # run may have ended in the instant between the handler's return and the report leaving.
    done = e2e.probe(ns, "done")
    runs = Counter(d["id"] for d in done)
    assert set(runs) == set(range(CRASH_ITEMS))
    again = {i: n for i, n in runs.items() if n > 1}
    settled = sum(1 for d in done if d["stop"] < disturbed_at)
    print(f"{settled} children had succeeded before the disturbance; ran twice: {again}")
    assert settled > 0, "the disturbance came before any child had finished"
    assert set(again) <= may_rerun, again


def _busiest_children_worker(e2e: E2E, ns: str) -> tuple[str, int]:
    """The children worker running the most children of ``ns`` right now, and its pid."""
    finished = {d["id"] for d in e2e.probe(ns, "done")}
    in_flight = Counter(s["worker"] for s in e2e.probe(ns, "starts") if s["id"] not in finished)
    by_pid = {e2e.stack.processes[name].pid: name for name in e2e.stack.worker_names("children")}
    assert in_flight and set(in_flight) <= set(by_pid), (in_flight, by_pid)
    pid = in_flight.most_common(1)[0][0]
    return by_pid[pid], pid


def test_a_killed_children_worker_loses_and_duplicates_nothing(
        e2e: E2E, undisturbed: set[tuple[int, str]]) -> None:
    ns = e2e.unique("kill")
    started = time.monotonic()
    arn = e2e.start(e2e.create_machine(_crash_definition(ns, e2e.bucket())), list(range(CRASH_ITEMS)))
    _wait_done(e2e, ns, 24)
    victim, pid = _busiest_children_worker(e2e, ns)
    killed_at = time.time()
    e2e.stack.kill_worker(victim)  # SIGKILL to the whole process group, mid-run
    # Children the kill may have caught after their handler returned but before the worker
    # recorded or reported the outcome: those running on the victim, or just finished there.
    long_done = {d["id"] for d in e2e.probe(ns, "done") if d["stop"] < killed_at - 0.5}
    on_victim = {s["id"] for s in e2e.probe(ns, "starts")
                 if s["worker"] == pid and s["id"] not in long_done}
    time.sleep(1.0)
    e2e.stack.restart_worker(victim)
    described = e2e.wait(arn, timeout=90)
    interrupted = len(e2e.probe(ns, "starts")) - len(e2e.probe(ns, "done"))
    print(f"\nkilled children worker: run took {time.monotonic() - started:.1f}s, "
          f"{interrupted} children interrupted and run again")
    _assert_exactly_once(e2e, described, ns, killed_at, undisturbed, may_rerun=on_victim)
    # The kill hit children in flight (the worker had some of the 6 permits), and they ran again.
    assert interrupted > 0


def test_a_restarted_control_worker_resumes_the_map_run(
        e2e: E2E, undisturbed: set[tuple[int, str]]) -> None:
    ns = e2e.unique("ctl")
    started = time.monotonic()
    arn = e2e.start(e2e.create_machine(_crash_definition(ns, e2e.bucket())), list(range(CRASH_ITEMS)))
    _wait_done(e2e, ns, 24)
    restarted_at = time.time()
    e2e.stack.restart_worker("control")  # warm shutdown, then a fresh process
    described = e2e.wait(arn, timeout=90)
    print(f"\nrestarted control worker: run took {time.monotonic() - started:.1f}s")
    _assert_exactly_once(e2e, described, ns, restarted_at, undisturbed, may_rerun=set())


def test_a_killed_control_worker_resumes_the_map_run(
        e2e: E2E, undisturbed: set[tuple[int, str]]) -> None:
    ns = e2e.unique("ctlkill")
    started = time.monotonic()
    arn = e2e.start(e2e.create_machine(_crash_definition(ns, e2e.bucket())), list(range(CRASH_ITEMS)))
    _wait_done(e2e, ns, 24)
    killed_at = time.time()
    e2e.stack.restart_worker("control", kill=True)  # SIGKILL, then a fresh process
    described = e2e.wait(arn, timeout=90)
    print(f"\nkilled control worker: run took {time.monotonic() - started:.1f}s")
    _assert_exactly_once(e2e, described, ns, killed_at, undisturbed, may_rerun=set())

"""``TimeoutSeconds`` with the workers run as ``--pool threads`` (issue 9).

With the threads pool no Task runs in a process's main thread, so the SIGALRM that interrupts
a handler in a prefork pool process cannot be used; the invoker waits for the handler in a
helper thread up to the deadline (``workers/invoker.py``). The issue's reproduction: a 60-s
handler under a 10-s timeout SUCCEEDED. Here a 30-s handler runs under a 2-s timeout as the
top-level Task of a Distributed Map child and as a parent's Task; both fail with
``States.Timeout``. No assertion depends on wall time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import E2E, distributed_map, make_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    # One control thread (the default pool size): before ``orchestrator/celery_wakeup.py`` a
    # threads-pool worker whose every thread held a message took the next one only seconds
    # later (celery/celery#6941), and the Distributed Map test below was still RUNNING after
    # 90 s; with the wake-up timer it ends within seconds.
    yield from make_stack({"celery": {"control_concurrency": 1}}, workers=1, concurrency=4,
                          pool="threads")


def _slow_task(ns: str, **fields: Any) -> dict[str, Any]:
    return {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": "probe-sleep",
                                    "Payload": {"probe": ns, "id": 0, "sleep": 30}},
                     "TimeoutSeconds": 2, "End": True, **fields}}


def test_the_workers_really_run_a_threads_pool(e2e: E2E) -> None:
    argv = " ".join(e2e.stack.processes["children-1"].argv)
    assert "--pool threads" in argv


def test_a_distributed_map_childs_task_times_out_on_a_threads_pool(e2e: E2E) -> None:
    ns = e2e.unique("threads-child")
    definition = distributed_map(_slow_task(ns), "Work", ItemsPath="$.items")
    described = e2e.run(definition, {"items": [1]}, timeout=90)
    assert described["status"] == "FAILED"
    (run,) = e2e.map_runs(described["executionArn"])
    (child,) = e2e.children(run["mapRunArn"])
    history = e2e.history(child["executionArn"])
    failed = [e for e in history if e["type"] == "ExecutionFailed"]
    assert failed and failed[0]["executionFailedEventDetails"]["error"] == "States.Timeout"
    assert [s["id"] for s in e2e.probe(ns, "starts")] == [0]  # it did start, and ran over


def test_a_parent_task_times_out_on_a_threads_pool(e2e: E2E) -> None:
    ns = e2e.unique("threads-parent")
    definition = {"StartAt": "Work", "States": _slow_task(ns)}
    described = e2e.run(definition, {}, timeout=90)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")

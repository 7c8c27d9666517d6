"""Redis restarts mid-run: every process rides through, the run finishes, nothing is lost.

Regression (issue 9): with celery/kombu 5.7.0 a worker whose broker connection dropped closed
the broken connection and died with ``AttributeError: 'NoneType' object has no attribute
'hostname'`` (16 of 18 children workers exited on a Redis restart; ``stepmap dev`` then tore
the whole stack down). The children here do no Redis I/O of their own (a Wait and a Pass), so
the only thing the outage can hurt is stepmap itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from e2e_support import E2E, counts_add_up, distributed_map, make_stack

from orchestrator.devstack.stack import LocalStack

pytestmark = pytest.mark.slow

ITEMS = 48


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"lease_seconds": 5}}, workers=2, concurrency=2,
                          worker_env={"STEPMAP_CELERY__VISIBILITY_TIMEOUT": "15"})


def _slow_children_map() -> dict[str, object]:
    return distributed_map(
        {"Hold": {"Type": "Wait", "Seconds": 1, "Next": "Echo"},
         "Echo": {"Type": "Pass", "End": True}},
        "Hold", ItemsPath="$.items", MaxConcurrency=4,
    )


def test_workers_survive_redis_restarts_and_the_map_run_finishes(e2e: E2E) -> None:
    # Given a Map Run whose children take a second each
    execution = e2e.start(e2e.create_machine(_slow_children_map()),
                          {"items": [{"n": i} for i in range(ITEMS)]})
    map_run = e2e.wait_map_run(execution)
    deadline = time.monotonic() + 30
    while e2e.sfn.describe_map_run(mapRunArn=map_run)["executionCounts"]["succeeded"] < 2:
        assert time.monotonic() < deadline, "no child finished before the restarts"
        time.sleep(0.1)

    # When Redis is restarted twice while children run (AOF: its data survives)
    for _ in range(2):
        e2e.stack.restart_redis(down_seconds=1.0)
        time.sleep(2.0)

    # Then no process exited, and the run ends with every item, in order
    assert [p.name for p in e2e.stack.dead()] == []
    out = e2e.wait(execution, timeout=180)
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == [{"n": i} for i in range(ITEMS)]
    described = e2e.sfn.describe_map_run(mapRunArn=map_run)
    assert described["itemCounts"]["succeeded"] == ITEMS
    assert counts_add_up(described["itemCounts"])
    assert [p.name for p in e2e.stack.dead()] == []


def test_a_stack_started_again_on_its_data_dir_keeps_its_redis_data(tmp_path: Path) -> None:
    # `stepmap dev --data-dir DIR` is a LocalStack on DIR: its Redis keeps an append-only file.
    options = {"api": False, "control": False, "s3": False, "workers": 0, "bucket": None}
    with LocalStack(workdir=tmp_path, **options) as first:  # type: ignore[arg-type]
        client = redis.Redis.from_url(first.redis_url)
        client.set("kept", "yes")
        client.close()
    with LocalStack(workdir=tmp_path, **options) as second:  # type: ignore[arg-type]
        client = redis.Redis.from_url(second.redis_url)
        assert client.get("kept") == b"yes"
        client.close()

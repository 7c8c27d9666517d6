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
    # 5-MiB result parts: the stream test's 24 MB of records make five, of which the write
    # passes upload the first while children run (none runs in the last two parts' worth).
    yield from make_stack({"limits": {"lease_seconds": 5, "result_stream_bytes": 5 * 1024**2}},
                          workers=2, concurrency=2,
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


def _stream_parts(e2e: E2E, map_run: str) -> int:
    """Parts the Map Run's result stream has uploaded so far (its state in Redis)."""
    from orchestrator.store.result_stream import ResultStream

    keys = list(e2e.redis.scan_iter(match=f"*:mr:{map_run}:stream"))
    if not keys:
        return 0
    raw = e2e.redis.get(keys[0])
    if raw is None:
        return 0
    stream = ResultStream.from_json(raw)
    return sum(len(c.parts) + len(c.files) for c in stream.categories.values())


def test_result_stream_survives_a_killed_control_worker_and_a_redis_restart(e2e: E2E) -> None:
    # Given 480 items of ~25 KB in 48 batches of 10 (24 MB of records, inputs and outputs:
    # 5-MiB parts streamed while the children, a second each, run)
    bucket = e2e.bucket()
    items = [{"n": i, "pad": "p" * 25_000} for i in range(480)]
    e2e.s3.put_object(Bucket=bucket, Key="in/items.json", Body=json.dumps(items).encode())
    definition = distributed_map(
        {"Hold": {"Type": "Wait", "Seconds": 1, "Next": "Echo"},
         "Echo": {"Type": "Pass", "End": True}},
        "Hold", MaxConcurrency=8, ItemBatcher={"MaxItemsPerBatch": 10},
        ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": "in/items.json"}},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                      "Parameters": {"Bucket": bucket, "Prefix": "out"}})
    execution = e2e.start(e2e.create_machine(definition), {})
    map_run = e2e.wait_map_run(execution)
    deadline = time.monotonic() + 90
    while _stream_parts(e2e, map_run) < 1:
        assert time.monotonic() < deadline, "no part was streamed"
        time.sleep(0.05)
    counts = e2e.sfn.describe_map_run(mapRunArn=map_run)["executionCounts"]
    assert counts["succeeded"] < 48  # mid-stream

    # When the control worker is SIGKILLed and Redis restarts while the stream goes on
    e2e.stack.restart_worker("control", kill=True)
    e2e.stack.restart_redis(down_seconds=0.5)

    # Then every record is in the files exactly once, in order, and no upload is left open
    out = e2e.wait(execution, timeout=180)
    assert out["status"] == "SUCCEEDED", out
    manifest = e2e.manifest(json.loads(out["output"]))
    records = e2e.result_records(manifest, "SUCCEEDED")
    assert [i["n"] for r in records for i in json.loads(r["Input"])["Items"]] == list(range(480))
    assert [i["n"] for r in records for i in json.loads(r["Output"])["Items"]] == list(range(480))
    assert e2e.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert [p.name for p in e2e.stack.dead()] == []

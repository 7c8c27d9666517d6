"""A Map Run whose finalizer dies is closed by another process within seconds (real Redis, S3).

Regression (issue 8): the finalize lock had a one-hour TTL, so a control worker killed while
writing a Map Run's results left it RUNNING, with no result file, for an hour.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import pytest
import redis
from maprun_world import World, request

from orchestrator.statuses import MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_base import ChildRecord, Lease
from orchestrator.store.maprun_redis import RedisMapRunStore
from workers.ledger import RedisLedger

N = 150  # more than one finalizer chunk (64), so the crash happens mid-file


class Killed(BaseException):
    """The control process dies (what a SIGKILL looks like from inside the finalizer)."""


def test_a_killed_finalizer_is_taken_over_and_the_result_files_are_written_once(
    redis_url: str, s3_client: Any, bucket: str,
) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisMapRunStore(client, Keys("takeover"))
    world = World(store=store, ledger=RedisLedger(client), s3_factory=lambda: s3_client,
                  clock=time.time, finalize_lease_seconds=1)
    writer = {"Resource": "arn:aws:states:::s3:putObject",
              "Parameters": {"Bucket": bucket, "Prefix": "out"}}
    arn = world.start(request([{"id": i, "fail": False} for i in range(N)],
                              max_concurrency=N, result_writer=writer))
    world.run_control()
    (batches, _, segment), = world.bus.segments
    reports = world.run_children(batches)

    # Given the finalizer dies after it wrote the first chunk of results
    original = store.child_records
    calls = []

    def dying(map_run_arn: str, indexes: Sequence[int]) -> list[ChildRecord | None]:
        calls.append(indexes)
        if len(calls) == 2:
            raise Killed
        return original(map_run_arn, indexes)

    store.child_records = dying  # type: ignore[method-assign]
    with pytest.raises(Killed):
        for report in reports:
            world.deliver(report)
    store.child_records = original  # type: ignore[method-assign]
    assert store.status(arn) is MapRunStatus.RUNNING
    # Then its lease is a short one, not an hour
    ttl_ms = client.pttl(Keys("takeover").map_run_finalize_lock(arn))
    assert 0 < ttl_ms <= 1_000

    # When the lease has lapsed and the next progress check runs
    while store.lease_held(Lease.FINALIZE, arn):
        time.sleep(0.05)
    world.coordinator.close_segment(arn, segment)

    # Then the run is closed and every child's result is in the files exactly once
    ended = world.coordinator.result(arn)
    assert ended is not None and ended.status is MapRunStatus.SUCCEEDED
    manifest_key = ended.result["ResultWriterDetails"]["Key"]
    manifest = json.loads(s3_client.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    files = manifest["ResultFiles"]["SUCCEEDED"]
    listed = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {manifest_key, *(f["Key"] for f in files)}
    names = [json.loads(r["Input"])["id"] for f in files
             for r in json.loads(s3_client.get_object(Bucket=bucket, Key=f["Key"])["Body"].read())]
    assert sorted(names) == list(range(N))
    client.close()

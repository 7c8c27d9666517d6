"""Faults while result files are streamed (real Redis and S3; the process dies in-process).

A control process killed while a write pass uploads parts, or while the finalizer completes
the uploads, is taken over once its lease lapses; S3 refusing a part makes the closing writer
write every file from the start; a bucket deleted mid-run fails the Map Run with
States.ResultWriterFailed. Every time: each child's record exactly once in the files, and no
multipart upload left open (ListMultipartUploads).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import redis
from botocore.exceptions import ClientError
from maprun_world import World
from test_result_stream import (  # noqa: F401 - fixtures
    MIB, end_rule, items, passes_to_the_end, reading, spooled_parts)

from orchestrator.asl import errors as asl_errors
from orchestrator.maprun import MapRunOutcome
from orchestrator.statuses import MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_base import Lease
from orchestrator.store.maprun_redis import RedisMapRunStore
from workers.ledger import RedisLedger

N = 130


class Killed(BaseException):
    """The control process dies (what a SIGKILL looks like from inside it)."""


class FaultyS3:
    """A boto3 S3 client whose chosen operation dies (or fails) on its chosen call."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.faults: dict[str, tuple[int, BaseException, bool]] = {}
        self.calls: dict[str, int] = {}

    def fail(self, operation: str, on_call: int, exc: BaseException, *,
             after: bool = False) -> None:
        """Raise ``exc`` on call ``on_call`` of ``operation`` (``after``: once it is done)."""
        self.calls[operation] = 0
        self.faults[operation] = (on_call, exc, after)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in self.faults:
            return method

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            on_call, exc, after = self.faults[name]
            if self.calls[name] == on_call and not after:
                raise exc
            out = method(**kwargs)
            if self.calls[name] == on_call:
                raise exc
            return out

        return call


class Stack:
    """A World on real Redis with a faulty S3 client and a 1-second finalize/write lease."""

    def __init__(self, redis_url: str, s3: Any, **limits: Any) -> None:
        self.client = redis.Redis.from_url(redis_url)
        self.store = RedisMapRunStore(self.client, Keys(f"rsf-{uuid.uuid4().hex[:8]}"))
        self.s3 = FaultyS3(s3)
        self.bucket = f"rsf-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=self.bucket)
        self.world = World(store=self.store, ledger=RedisLedger(self.client),
                           s3_factory=lambda: self.s3, clock=time.time,
                           finalize_lease_seconds=1, result_stream_bytes=5 * MIB, **limits)

    def start(self, n: int = N, **kwargs: Any) -> str:
        writer = {"Resource": "arn:aws:states:::s3:putObject",
                  "Parameters": {"Bucket": self.bucket, "Prefix": "out"}}
        return self.world.start(reading(items(self.s3._client, n, fail_every=0),
                                        max_concurrency=10, result_writer=writer, **kwargs))

    def killed_at(self, operation: str, nth: int, *, after: bool) -> str:
        """Start a run whose ``nth`` S3 ``operation`` kills the process (``after``: once S3 did
        it); returns the run's ARN, still RUNNING."""
        self.s3.fail(operation, nth, Killed(), after=after)
        arn = self.start()
        with pytest.raises(Killed):
            self.world.drain()
        assert self.store.status(arn) is MapRunStatus.RUNNING
        return arn

    def wait_lease(self, lease: Lease, arn: str) -> None:
        while self.store.lease_held(lease, arn):
            time.sleep(0.05)

    def uploads_left(self) -> list[str]:
        listing = self.s3._client.list_multipart_uploads(Bucket=self.bucket)
        return [u["Key"] for u in listing.get("Uploads", [])]

    def assert_every_record_once(self, ended: MapRunOutcome) -> None:
        """The run succeeded, each child's record is in its files once, no upload is open."""
        assert ended.status is MapRunStatus.SUCCEEDED
        assert self.ids_in_files(ended.result["ResultWriterDetails"]["Key"]) == list(range(N))
        assert self.uploads_left() == []

    def ids_in_files(self, manifest_key: str) -> list[int]:
        s3 = self.s3._client
        manifest = json.loads(s3.get_object(Bucket=self.bucket, Key=manifest_key)["Body"].read())
        ids = []
        for files in manifest["ResultFiles"].values():
            for f in files:
                body = s3.get_object(Bucket=self.bucket, Key=f["Key"])["Body"].read()
                assert len(body) == f["Size"]
                ids += [json.loads(r["Input"])["id"] for r in json.loads(body)]
        return ids


def test_a_control_process_killed_while_a_pass_uploads_parts_is_taken_over(
    redis_url: str, s3_client: Any,
) -> None:
    stack = Stack(redis_url, s3_client)
    # Given the second part upload of a write pass kills its process (the part reached S3)
    arn = stack.killed_at("upload_part", 2, after=True)
    stream = stack.store.result_stream(arn)
    assert stream is not None and stream.categories["SUCCEEDED"].parts  # one part recorded
    # When its lease has lapsed and the run goes on
    stack.wait_lease(Lease.WRITE, arn)
    ended = stack.world.ended(arn)
    # Then the run succeeded with every record exactly once and no upload left open
    stack.assert_every_record_once(ended)


@pytest.mark.parametrize("after", [False, True], ids=["before-upload", "after-upload"])
def test_a_finalizer_killed_while_its_thread_uploads_a_part_is_taken_over(
    redis_url: str, s3_client: Any, end_rule: None, after: bool,
) -> None:
    stack = Stack(redis_url, s3_client)
    # Given 130 children of ~100 KB (under three 5-MiB parts): no write pass runs (fewer than
    # two parts' worth left once the reader is done), the closing pass uploads every part on
    # its thread, and the second upload kills the process (before, or once the part reached S3)
    arn = stack.killed_at("upload_part", 2, after=after)
    stream = stack.store.result_stream(arn)
    # Then no save claims the part that died with its process
    assert stream is None or len(stream.categories["SUCCEEDED"].parts) <= 1
    # When its leases have lapsed and the next progress check runs
    stack.wait_lease(Lease.FINALIZE, arn)
    stack.wait_lease(Lease.WRITE, arn)
    stack.world.coordinator.progress(arn)
    ended = stack.world.ended(arn)
    # Then the run is closed, each record once in the files, no upload left open
    stack.assert_every_record_once(ended)


@pytest.mark.parametrize("after", [False, True], ids=["before-complete", "after-complete"])
def test_a_finalizer_killed_while_it_completes_the_uploads_is_taken_over(
    redis_url: str, s3_client: Any, after: bool,
) -> None:
    stack = Stack(redis_url, s3_client)
    # Given the finalizer dies as it completes the first file (before, or once S3 completed it)
    arn = stack.killed_at("complete_multipart_upload", 1, after=after)
    # When its leases have lapsed and the next progress check runs
    stack.wait_lease(Lease.FINALIZE, arn)
    stack.wait_lease(Lease.WRITE, arn)
    stack.world.coordinator.progress(arn)
    ended = stack.world.ended(arn)
    # Then the run is closed, each record once in the files, no upload left open
    stack.assert_every_record_once(ended)


def test_s3_refusing_a_part_while_streaming_leaves_the_files_to_the_closing_writer(
    redis_url: str, s3_client: Any,
) -> None:
    stack = Stack(redis_url, s3_client)
    spooled = spooled_parts()
    # Given S3 refuses the second part a write pass uploads
    refused = ClientError({"Error": {"Code": "InternalError", "Message": "try again"}},
                          "UploadPart")
    stack.s3.fail("upload_part", 2, refused)
    arn = stack.start()
    ended = stack.world.ended(arn)
    # Then streaming stopped (its uploads aborted) and the finalizer wrote every file
    stream = stack.store.result_stream(arn)
    assert stream is not None and stream.failed is not None and "InternalError" in stream.failed
    stack.assert_every_record_once(ended)
    assert spooled_parts() == spooled  # the failed pass removed its spooled parts too


def test_a_bucket_deleted_mid_run_fails_the_map_run_with_result_writer_failed(
    redis_url: str, s3_client: Any,
) -> None:
    stack = Stack(redis_url, s3_client)
    arn = stack.start()
    world = stack.world
    world.run_control()
    # Given parts were streamed
    while not (stream := stack.store.result_stream(arn)) or not any(
            c.parts for c in stream.categories.values()):
        world.run_segment()
        world.run_control()
    # When the bucket is deleted (its open uploads first: S3 refuses a bucket that has any)
    for upload in s3_client.list_multipart_uploads(Bucket=stack.bucket).get("Uploads", []):
        s3_client.abort_multipart_upload(Bucket=stack.bucket, Key=upload["Key"],
                                         UploadId=upload["UploadId"])
    s3_client.delete_bucket(Bucket=stack.bucket)
    ended = world.ended(arn)
    # Then the Map Run failed as the closing writer fails it, and nothing was left open
    assert ended.status is MapRunStatus.FAILED
    assert ended.error == asl_errors.RESULT_WRITER_FAILED
    assert "NoSuchBucket" in ended.cause
    s3_client.create_bucket(Bucket=stack.bucket)
    assert stack.uploads_left() == []

"""Result files streamed while children run are byte for byte the closing writer's (real Redis, S3).

The same Map Runs run twice, ``limits.result_stream_bytes`` 5 MiB (streamed, parts uploaded by
write passes between the children's reports) and 0 (written when the Map Run closes, as before
streaming existed): every result file and the manifest are compared byte for byte. Inputs of
~100 KB make the files span several 5-MiB parts and roll over at ``result_file_bytes``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from maprun_world import EXECUTION, World, request

from orchestrator.asl import DistributedMapRequest
from orchestrator.maprun import starter, streaming
from orchestrator.readers import ItemReaderRequest
from orchestrator.statuses import MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.result_stream import ResultStream
from workers import runner
from workers.ledger import RedisLedger

MIB = 1024 * 1024
PAD = "x" * 100_000
#: The rule as shipped (the module's fixture turns it off; ``end_rule`` turns it back on).
SHIPPED_END_PARTS = streaming.END_PARTS
RUN_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


@pytest.fixture(autouse=True)
def passes_to_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """These runs of 2-3 parts follow write passes to their last children: no pass would run
    in the last ``END_PARTS`` parts' worth, as in a large run (the tests of that rule ask for
    :func:`end_rule`)."""
    monkeypatch.setattr(streaming, "END_PARTS", 0)


@pytest.fixture
def end_rule(passes_to_the_end: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pass in the last ``END_PARTS`` parts' worth, as shipped: the closing pass uploads
    those parts (on its thread)."""
    monkeypatch.setattr(streaming, "END_PARTS", SHIPPED_END_PARTS)


@pytest.fixture
def fixed_run_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both runs of a comparison get the same Map Run id (so the same folder and child names)
    and their children the same start and stop dates."""
    monkeypatch.setattr(starter, "uuid", SimpleNamespace(
        uuid4=lambda: uuid.UUID(RUN_ID), uuid3=uuid.uuid3, UUID=uuid.UUID))
    monkeypatch.setattr(runner, "time", SimpleNamespace(
        time=lambda: 1_700_000_000.25, monotonic=time.monotonic, sleep=time.sleep))


def spooled_parts() -> int:
    """Temporary files this process holds open: the writers' spooled parts (PartSpool), which
    every pass and every close must remove, also when it fails."""
    fds = "/proc/self/fd"
    held = 0
    for fd in os.listdir(fds):
        try:
            target = os.readlink(f"{fds}/{fd}")
        except OSError:
            continue  # closed since listed (the listing's own descriptor)
        held += target.startswith(tempfile.gettempdir()) and target.endswith("(deleted)")
    return held


def items(s3: Any, n: int, *, fail_every: int = 7) -> ItemReaderRequest:
    """An ItemReader over a JSON array of ``n`` items of ~100 KB in its own bucket."""
    name = f"items-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    body = json.dumps([{"id": i, "fail": fail_every > 0 and i % fail_every == fail_every // 2,
                        "pad": PAD}
                       for i in range(n)])
    s3.put_object(Bucket=name, Key="items.json", Body=body.encode())
    return ItemReaderRequest.of_asl({"Resource": "arn:aws:states:::s3:getObject",
                                     "Parameters": {"Bucket": name, "Key": "items.json"},
                                     "ReaderConfig": {"InputType": "JSON"}})


def reading(reader: ItemReaderRequest, **kwargs: Any) -> DistributedMapRequest:
    return dataclasses.replace(request([], **kwargs), reader=reader, items=None)


class Run:
    """One Map Run through a World on real Redis and S3, with its write passes observed."""

    def __init__(self, redis_url: str, s3: Any, bucket: str, stream_bytes: int,
                 **limits: Any) -> None:
        self.client = redis.Redis.from_url(redis_url)
        self.store = RedisMapRunStore(self.client, Keys(f"rs-{uuid.uuid4().hex[:8]}"))
        self.s3 = s3
        self.bucket = bucket
        self.world = World(store=self.store, ledger=RedisLedger(self.client),
                           s3_factory=lambda: s3, clock=None, result_stream_bytes=stream_bytes,
                           **limits)
        #: Stream states after each write pass, and the children ended before each.
        self.passes: list[ResultStream | None] = []
        self.ended_before_pass: list[int] = []
        write = self.world.coordinator.write

        def observed(arn: str) -> None:
            self.ended_before_pass.append(self.store.counters(arn)[1].terminal)
            write(arn)
            self.passes.append(self.store.result_stream(arn))

        self.world.coordinator.write = observed  # type: ignore[method-assign]

    def writer(self, **config: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": "out"}
        spec: dict[str, Any] = {"Resource": "arn:aws:states:::s3:putObject",
                                "Parameters": params}
        if config:
            spec["WriterConfig"] = config
        return spec

    def files(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {o["Key"]: self.s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read()
                for o in listed}

    def uploads_left(self) -> list[str]:
        return [u["Key"] for u in
                self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])]

    def parts_before_close(self) -> int:
        """Parts the write passes had uploaded (the finalizer's are not counted)."""
        return max((sum(len(c.parts) + len(c.files) for c in s.categories.values())
                    for s in self.passes if s is not None), default=0)


def both(redis_url: str, s3_client: Any, **limits: Any) -> Iterator[Run]:
    """The run streamed, then the run written at close, in the same (emptied) bucket."""
    name = f"rs-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    for stream_bytes in (5 * MIB, 0):
        yield Run(redis_url, s3_client, name, stream_bytes, **limits)
        for key in list(Run(redis_url, s3_client, name, 0).files()):
            s3_client.delete_object(Bucket=name, Key=key)


#: WriterConfig, limits, every how many children one fails (COMPACT/FLATTEN write the inputs
#: of failed children only: half of them fail so that their file spans parts).
CASES = {
    "none-json-rollover": ({}, {"result_file_bytes": 7 * MIB}, 7),
    "compact-jsonl": ({"Transformation": "COMPACT", "OutputType": "JSONL"}, {}, 2),
    "flatten-json-rollover": ({"Transformation": "FLATTEN", "OutputType": "JSON"},
                              {"result_file_bytes": 6 * MIB}, 2),
    "none-jsonl-rollover": ({"OutputType": "JSONL"}, {"result_file_bytes": 6 * MIB}, 7),
}


@pytest.mark.parametrize("case", list(CASES))
def test_streamed_files_are_byte_identical_to_the_closing_writers(
    case: str, redis_url: str, s3_client: Any, fixed_run_id: None,
) -> None:
    config, limits, fail_every = CASES[case]
    outcomes = []
    spooled = spooled_parts()
    reader = items(s3_client, 130, fail_every=fail_every)
    for run in both(redis_url, s3_client, **limits):
        # Given 130 children of ~100 KB, every 7th failing (tolerated), 10 at a time
        arn = run.world.start(reading(reader, max_concurrency=10, percentage=100,
                                      result_writer=run.writer(**config)))
        ended = run.world.ended(arn)
        assert ended.status is MapRunStatus.SUCCEEDED
        outcomes.append((ended.result, run.files(), run.uploads_left(), run.parts_before_close()))
    (streamed, streamed_files, left_on, parts_on), (closing, closing_files, left_off, _) = outcomes
    # Then the streamed run uploaded parts while children ran
    assert parts_on >= 1
    # and its files and manifest are the closing writer's, byte for byte
    assert streamed == closing
    assert sorted(streamed_files) == sorted(closing_files)
    for key, body in closing_files.items():
        assert streamed_files[key] == body, key
    manifest = json.loads(closing_files[closing["ResultWriterDetails"]["Key"]])
    assert sum(len(v) for v in manifest["ResultFiles"].values()) >= 2
    # and no multipart upload is left open, nor any part spooled to a temporary file
    assert left_on == [] and left_off == []
    assert spooled_parts() == spooled


def test_no_pass_runs_once_the_children_left_would_fill_fewer_than_two_parts(
    redis_url: str, s3_client: Any, fixed_run_id: None, end_rule: None,
) -> None:
    """Issue 14: passes near the end kept the children's last reports waiting behind part
    uploads in the control process (the Map Run closed up to 0.3 s after its last child)."""
    reader = items(s3_client, 260, fail_every=0)
    outcomes = []
    for run in both(redis_url, s3_client):
        # Given 260 children of ~100 KB (~5 parts of 5 MiB), 10 at a time
        arn = run.world.start(reading(reader, max_concurrency=10, percentage=100,
                                      result_writer=run.writer()))
        ended = run.world.ended(arn)
        assert ended.status is MapRunStatus.SUCCEEDED
        outcomes.append((ended.result, run.files()))
        if run.passes:
            # Then the passes uploaded parts, and none ran with fewer than two parts' worth
            # of children left to end (the closing pass wrote those)
            assert run.parts_before_close() >= 1
            every = max(s.every for s in run.passes if s is not None)
            assert every > 1
            assert all(260 - ended_before >= 2 * every
                       for ended_before in run.ended_before_pass[1:])
    # and the files are the closing writer's, byte for byte
    (streamed, streamed_files), (closing, closing_files) = outcomes
    assert streamed == closing and streamed_files == closing_files


def test_an_aborted_run_streams_its_aborted_and_pending_records_like_the_closing_writer(
    redis_url: str, s3_client: Any, fixed_run_id: None,
) -> None:
    outcomes = []
    reader = items(s3_client, 200, fail_every=0)
    for run in both(redis_url, s3_client):
        arn = run.world.start(reading(reader, max_concurrency=10,
                                      result_writer=run.writer()))
        world = run.world
        world.run_control()
        # Given 120 children ran (their records streamed) and more are running
        while run.store.counters(arn)[1].succeeded < 120:
            world.run_segment()
            world.run_control()
        assert world.bus.segments  # children in flight
        # When the execution is stopped
        world.coordinator.abort(EXECUTION)
        world.bus.segments.clear()  # their reports never come
        ended = world.coordinator.result(arn)
        assert ended is not None and ended.status is MapRunStatus.ABORTED
        details = json.loads(run.files()[f"out/{RUN_ID}/manifest.json"])
        outcomes.append((details, run.files(), run.uploads_left(), run.parts_before_close()))
    (manifest_on, files_on, left_on, parts_on), (manifest_off, files_off, left_off, _) = outcomes
    assert parts_on >= 1
    assert manifest_on == manifest_off
    assert set(manifest_on["ResultFiles"]) == {"FAILED", "PENDING", "SUCCEEDED"}
    assert manifest_on["ResultFiles"]["PENDING"] and manifest_on["ResultFiles"]["FAILED"]
    # (byte for byte but the dates of the ABORTED records, stamped by Redis's clock)
    assert {k: len(v) for k, v in files_on.items()} == {k: len(v) for k, v in files_off.items()}
    assert {k: undated(v) for k, v in files_on.items()} == {
        k: undated(v) for k, v in files_off.items()}
    assert left_on == [] and left_off == []


def undated(body: bytes) -> Any:
    value = json.loads(body)
    if isinstance(value, list):
        for record in value:
            if record.get("Status") == "ABORTED":
                record.pop("StartDate", None)
                record.pop("StopDate", None)
    return value


def test_a_redriven_run_writes_its_files_again_with_all_children(
    redis_url: str, s3_client: Any, fixed_run_id: None,
) -> None:
    outcomes = []
    reader = items(s3_client, 130)
    for run in both(redis_url, s3_client):
        # Given a run whose failures exceed the threshold: FAILED, its files written
        arn = run.world.start(reading(reader, max_concurrency=10, count=5,
                                      result_writer=run.writer()))
        first = run.world.ended(arn)
        assert first.status is MapRunStatus.FAILED
        first_files = run.files()
        # When it is redriven (its failed children run again and fail again)
        run.world.coordinator.redrive(arn)
        again = run.world.ended(arn)
        assert again.status is MapRunStatus.FAILED
        # Then the redrive wrote every child again (redrive count 1 in every record)
        files = run.files()
        assert set(files) == set(first_files)
        assert files != first_files
        outcomes.append((files, run.uploads_left(), run.passes))
    (files_on, left_on, passes_on), (files_off, left_off, _) = outcomes
    assert {k: undated(v) for k, v in files_on.items()} == {
        k: undated(v) for k, v in files_off.items()}
    assert left_on == [] and left_off == []
    # the redriven run streamed anew: its first pass started from child 0
    assert any(s is not None and s.frontier < 130 and not s.done for s in passes_on[1:])


def test_settings_refuse_a_part_size_below_s3s_smallest() -> None:
    from pydantic import ValidationError

    from orchestrator.settings import Settings

    with pytest.raises(ValidationError, match="result_stream_bytes must be 0"):
        Settings(limits={"result_stream_bytes": 1024})
    assert Settings(limits={"result_stream_bytes": 0}).limits.result_stream_bytes == 0


def test_a_pass_finds_nothing_to_do_once_the_run_closed(
    redis_url: str, s3_client: Any, bucket: str,
) -> None:
    run = Run(redis_url, s3_client, bucket, 5 * MIB)
    arn = run.world.start(reading(items(s3_client, 20), max_concurrency=20, percentage=100,
                                  result_writer=run.writer()))
    assert run.world.ended(arn).status is MapRunStatus.SUCCEEDED
    before = run.files()
    stream = run.store.result_stream(arn)
    assert stream is not None and stream.done
    run.world.coordinator.write(arn)  # a late pass
    assert run.files() == before
    assert run.store.result_stream(arn) == stream


@pytest.mark.parametrize("processes", ["one", "two", "none-kept"])
def test_bytes_kept_between_passes_are_used_only_by_the_pass_they_belong_to(
    processes: str, redis_url: str, s3_client: Any, fixed_run_id: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 14: a pass keeps the bytes it leaves past the last part for this process's next
    pass, so one control process reads each record once (it read most of them twice, and the
    closing pass read up to a part's worth again after the last child). With passes alternating
    between two processes, each finds its kept bytes stale (another pass moved the stream on)
    and reads them again: the files are the closing writer's, byte for byte, either way."""
    from orchestrator.maprun import result_records, streaming

    if processes == "none-kept":
        monkeypatch.setattr(streaming, "KEPT_RUNS", 0)
    reads = [0]
    children_at = result_records.children_at

    def counted(deps: Any, run_: Any, indexes: list[int], *args: Any) -> Any:
        reads[0] += len(indexes)
        return children_at(deps, run_, indexes, *args)

    monkeypatch.setattr(result_records, "children_at", counted)
    config, limits, fail_every = CASES["none-json-rollover"]
    outcomes = []
    reader = items(s3_client, 130, fail_every=fail_every)
    for run in both(redis_url, s3_client, **limits):
        if processes == "two":
            caches: list[dict[str, Any]] = [{}, {}]
            write = run.world.coordinator.write

            def alternating(arn: str, write: Any = write) -> None:
                monkeypatch.setattr(streaming, "_kept", caches[len(run.passes) % 2])
                write(arn)

            run.world.coordinator.write = alternating  # type: ignore[method-assign]
        reads[0] = 0
        arn = run.world.start(reading(reader, max_concurrency=10, percentage=100,
                                      result_writer=run.writer(**config)))
        assert run.world.ended(arn).status is MapRunStatus.SUCCEEDED
        outcomes.append((run.files(), reads[0], run.parts_before_close(), len(run.passes)))
    (streamed, streamed_reads, parts, passes), (closing, closing_reads, _, _) = outcomes
    assert parts >= 1 and passes >= 4
    assert streamed == closing
    assert closing_reads == 130  # the closing writer reads each record once
    if processes == "one":
        assert streamed_reads == 130
    else:
        assert streamed_reads > 130


def test_a_pass_uploads_one_part_then_lets_waiting_messages_go_first(
    redis_url: str, s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (issue 14): a pass that found three parts' worth of ended children uploaded
    all three while the children's reports waited behind it in the one control process (the
    last report was recorded 0.2 s after the last child ended). A pass now stops after the
    chunk in which it uploaded a part and asks for the next pass."""
    from orchestrator import messages
    from orchestrator.maprun import streaming

    monkeypatch.setattr(streaming, "after_progress", lambda *args: None)  # no pass by itself
    run = Run(redis_url, s3_client, bucket, 5 * MIB)
    arn = run.world.start(reading(items(s3_client, 130, fail_every=0), max_concurrency=10,
                                  result_writer=run.writer()))
    world = run.world
    world.run_control()
    while run.store.counters(arn)[1].succeeded < 120:  # children report; no pass ran yet
        world.run_segment()
        world.run_control()
    assert run.store.result_stream(arn) is None
    # ~12 MB of records ended: one pass uploads one 5-MiB part and asks for the next pass
    uploads: list[int] = []
    upload = streaming._File._upload_part

    def counted(self: Any, next_mark: Any) -> None:
        uploads.append(len(run.passes))
        upload(self, next_mark)

    monkeypatch.setattr(streaming._File, "_upload_part", counted)
    world.coordinator.write(arn)
    assert uploads == [0]
    assert world.bus.sent(messages.MAP_RUN_WRITE) == [(arn,)]
    world.run_control()  # the next pass: the second part, and asks again; the third finds none
    assert uploads == [0, 1]
    stream = run.store.result_stream(arn)
    assert stream is not None and 0 < stream.frontier < 130
    assert world.ended(arn).status is MapRunStatus.SUCCEEDED

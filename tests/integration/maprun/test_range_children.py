"""Map Runs whose children read their own byte ranges of a CSV in a real S3 server (issue 14):
the path is chosen once and kept in the cursor, every row reaches exactly one child in order
(also when the planner dies between two chunks), the inputs stored for later readers are the
real texts, and an object changed, deleted or malformed under a running Map Run fails it with
States.ItemReaderFailed naming the object and where."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from maprun_world import EXECUTION, World, request

from orchestrator import messages
from orchestrator.asl import ItemReaderRequest
from orchestrator.maprun import feeder
from orchestrator.maprun.batching import Batcher
from orchestrator.maprun.plan import BatchRule
from orchestrator.readers import _s3, open_items
from orchestrator.readers.ranges import is_range
from orchestrator.statuses import MapRunStatus

#: Plain rows around rows the parser must see: a quoted newline, CRLF, an escape, a blank line.
CSV = (b"id,name,amount\n"
       + b"".join(b"%d,item-%d,%d\n" % (i, i, i * 7) for i in range(300))
       + b'300,"two\nlines",1\r\n301,x\\,y,2\n\n302\n'
       + b"".join(b"%d,item-%d,%d\n" % (i, i, i * 7) for i in range(303, 1000)))

#: The child outputs the number of items it got.
COUNTING = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
    "StartAt": "Count",
    "States": {"Count": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)"},
                         "End": True}},
}


def _reader(bucket: str, **config: Any) -> ItemReaderRequest:
    return ItemReaderRequest.of_asl({
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket": bucket, "Key": "rows.csv"},
        "ReaderConfig": {"InputType": "CSV", **config},
    })


def _start(world: World, bucket: str, batch: int = 40, **config: Any) -> str:
    req = dataclasses.replace(
        request([], batcher={"MaxItemsPerBatch": batch, "BatchInput": {"b": 1}},
                execution_type="EXPRESS"),
        reader=_reader(bucket, **config), items=None, processor=COUNTING)
    return world.start(req)


def _parsing_path_inputs(s3: Any, bucket: str, batch: int = 40) -> list[str]:
    batcher = Batcher(BatchRule(max_items=batch, batch_input={"b": 1}), texts=True)
    out: list[str] = []
    with open_items(_reader(bucket), None, s3) as stream:
        blocks = stream.json_blocks(64)
        assert blocks is not None
        for block in blocks:
            out += [b.input_json for b in batcher.add_texts(block)]
    return out + [b.input_json for b in batcher.flush()]


@pytest.mark.parametrize("kill_at_chunk", [None, 1, 2, 4])
def test_range_children_get_every_row_once_in_order_even_after_a_killed_planner(
    s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, kill_at_chunk: int | None
) -> None:
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    # Small reads and chunks: many blocks (plain ones counted, the others parsed) and chunks.
    monkeypatch.setattr(_s3, "CHUNK_SIZE", 512)
    monkeypatch.setattr(feeder, "RANGE_FIRST_CHUNK", 2)
    monkeypatch.setattr(feeder, "CHUNK", 3)
    world = World(s3_factory=lambda: s3_client)
    arn = _start(world, bucket)

    def planned(chunk: Any) -> None:
        assert chunk.feed.cursor["ranges"] is True
        assert all(is_range(child.input_json) for child in chunk.ready)

    world.feed_dying_once(arn, kill_at_chunk, planned, lease_ms=feeder.LEASE_MS)
    outcome = world.ended(arn)
    assert outcome.status is MapRunStatus.SUCCEEDED, outcome
    expected = _parsing_path_inputs(s3_client, bucket)
    run = world.store.get(arn)
    assert run is not None and run.feed.next == len(expected) == 25
    # What the result writer, DescribeExecution and redrive read: the real input texts.
    assert world.store.child_inputs(arn, list(range(run.feed.next))) == expected
    assert [o["n"] for o in outcome.result] == [40] * 25


def test_the_planner_dispatches_each_chunk_it_stores_before_planning_on(
        s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (issue 14): with one control process the planner's dispatch messages waited
    for the whole feed call, which read the object to the end of the window first (a 1M-row
    CSV's first child started 0.3 s after its Map Run, a 10M-row one's 1.9 s)."""
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    monkeypatch.setattr(_s3, "CHUNK_SIZE", 512)
    world = World(s3_factory=lambda: s3_client)
    monkeypatch.setattr(feeder, "CHUNK", 8)
    arn = _start(world, bucket, batch=32)
    world.bus.control.clear()  # the start's own feed message: fed by hand below
    events: list[str] = []
    append, send = world.store.append_children, world.bus.send_segment

    def stored(arn_: str, chunk: Any) -> None:
        events.append(f"stored {len(chunk.ready)}")
        append(arn_, chunk)

    def sent(batches: Any, *args: Any) -> None:
        events.append(f"sent {len(batches)}")
        send(batches, *args)

    monkeypatch.setattr(world.store, "append_children", stored)
    monkeypatch.setattr(world.bus, "send_segment", sent)
    world.coordinator.feed(arn)
    # 1000 rows in 32 pieces of 32: chunks of 8 children, each dispatched (one segment) in the
    # same call before the planner reads on; no dispatch message waits for the call to end.
    assert events[:6] == ["stored 8", "sent 1"] * 3, events
    assert events.count("stored 8") == 4
    assert world.bus.sent(messages.MAP_RUN_DISPATCH) == []
    assert world.ended(arn).status is MapRunStatus.SUCCEEDED


def test_a_run_that_started_on_the_parsing_path_stays_on_it(
        s3_client: Any, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    world = World(s3_factory=lambda: s3_client)
    arn = _start(world, bucket)
    run = world.store.get(arn)
    assert run is not None
    # A cursor written by the parsing path (no "ranges" in it): that path goes on.
    with open_items(_reader(bucket), None, s3_client) as stream:
        for _ in zip(range(40), stream):
            pass
        cursor = stream.cursor()
    world.store.append_children(arn, feeder.FeedChunk([], [], dataclasses.replace(
        run.feed, cursor=cursor, next=0), False))
    world.coordinator.feed(arn)
    inputs = world.store.child_inputs(arn, [0])
    assert inputs[0] is not None and not is_range(inputs[0])
    assert json.loads(inputs[0])["Items"][0]["id"] == "40"


def _changed_under_its_children(s3_client: Any, bucket: str,
                                change: Any) -> tuple[World, str, str]:
    """A Map Run planned and dispatched, then ``change`` before any child ran: it fails."""
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    world = World(s3_factory=lambda: s3_client)
    arn = _start(world, bucket)
    world.run_control()
    assert world.bus.segments
    change()
    outcome = world.ended(arn)
    assert outcome.status is MapRunStatus.FAILED
    assert outcome.error == "States.ItemReaderFailed"
    assert f"s3://{bucket}/rows.csv" in outcome.cause and "bytes 15-" in outcome.cause
    assert "from line 2" in outcome.cause
    return world, arn, outcome.cause


@pytest.mark.parametrize(("change", "code"), [("overwritten", "PreconditionFailed"),
                                              ("deleted", "NoSuchKey")])
def test_an_object_changed_under_range_children_fails_the_map_run(
        s3_client: Any, bucket: str, change: str, code: str) -> None:
    def act() -> None:
        if change == "deleted":
            s3_client.delete_object(Bucket=bucket, Key="rows.csv")
        else:
            s3_client.put_object(Bucket=bucket, Key="rows.csv",
                                 Body=CSV.replace(b"item-1,", b"item-X,"))

    _, _, cause = _changed_under_its_children(s3_client, bucket, act)
    assert code in cause


def test_a_malformed_row_in_the_middle_fails_the_map_run_with_the_parsers_cause(
        s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = CSV.replace(b"500,item-500,", b"500,caf\xe9,")
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=bad)
    monkeypatch.setattr(_s3, "CHUNK_SIZE", 1024)
    world = World(s3_factory=lambda: s3_client)
    outcome = world.ended(_start(world, bucket))
    assert outcome.status is MapRunStatus.FAILED
    assert outcome.error == "States.ItemReaderFailed"
    # The same cause the parsing path gives for that row.
    with pytest.raises(Exception) as parsed:
        _parsing_path_inputs(s3_client, bucket)
    assert outcome.cause == parsed.value.cause  # type: ignore[attr-defined]
    assert "line 504" in outcome.cause and "byte offset" in outcome.cause


def test_a_redrive_after_the_object_came_back_reads_the_ranges_again(
        s3_client: Any, bucket: str) -> None:
    world, arn, _ = _changed_under_its_children(
        s3_client, bucket, lambda: s3_client.delete_object(Bucket=bucket, Key="rows.csv"))
    # The same bytes again: the same ETag, so the planned ranges are valid again.
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    world.coordinator.redrive(arn)
    outcome = world.ended(arn)
    assert outcome.status is MapRunStatus.SUCCEEDED, outcome
    run = world.store.get(arn)
    assert run is not None
    assert world.store.child_inputs(arn, list(range(run.feed.next))) == \
        _parsing_path_inputs(s3_client, bucket)


def test_a_jsonl_map_run_reads_its_ranges_and_gets_every_line_once(
        s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = b"".join(b'{"id":%d,"v":[%d,{"w":"x"}]}\n' % (i, i) for i in range(500))
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=lines + b"\n  \n" + lines)
    monkeypatch.setattr(_s3, "CHUNK_SIZE", 700)
    world = World(s3_factory=lambda: s3_client)
    req = dataclasses.replace(
        request([], batcher={"MaxItemsPerBatch": 64}, execution_type="EXPRESS"),
        reader=_reader(bucket, InputType="JSONL"), items=None, processor=COUNTING)
    arn = world.start(req)
    outcome = world.ended(arn)
    assert outcome.status is MapRunStatus.SUCCEEDED, outcome
    run = world.store.get(arn)
    assert run is not None and run.feed.cursor is not None and run.feed.cursor["ranges"]
    inputs = world.store.child_inputs(arn, list(range(run.feed.next)))
    ids = [item["id"] for text in inputs for item in json.loads(str(text))["Items"]]
    assert ids == list(range(500)) * 2
    assert [o["n"] for o in outcome.result] == [64] * 15 + [40]


def test_children_aborted_before_they_read_their_ranges_show_their_inputs_in_the_results(
        s3_client: Any, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    world = World(s3_factory=lambda: s3_client)
    req = dataclasses.replace(
        request([], batcher={"MaxItemsPerBatch": 40, "BatchInput": {"b": 1}},
                result_writer={"Resource": "arn:aws:states:::s3:putObject",
                               "Parameters": {"Bucket": bucket, "Prefix": "out"}}),
        reader=_reader(bucket), items=None, processor=COUNTING)
    arn = world.start(req)
    world.run_control()  # planned and dispatched; no child has run
    assert world.bus.segments
    world.coordinator.abort(EXECUTION)
    outcome = world.ended(arn)
    assert outcome.status is MapRunStatus.ABORTED
    (key,) = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, Prefix="out")["Contents"]
              if o["Key"].endswith("manifest.json")]
    manifest = json.loads(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
    records = [record for entries in manifest["ResultFiles"].values() for entry in entries
               for record in json.loads(s3_client.get_object(
                   Bucket=bucket, Key=entry["Key"])["Body"].read())]
    assert records and {r["Status"] for r in records} == {"ABORTED"}, manifest
    inputs = _parsing_path_inputs(s3_client, bucket)
    assert all(r["Input"] in inputs for r in records)
    # Unresolved descriptors stay in the store; the result files read them.
    assert is_range(world.store.child_inputs(arn, [0])[0])

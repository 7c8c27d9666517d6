"""Feeding a Map Run from a CSV in a real S3 server, rows written straight into child inputs
(issue 14): every row exactly once, in order, in exact batches, also when a feeder dies between
two chunks and another one takes over from the stored cursor."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import pytest
from maprun_world import World, request

from orchestrator.asl import ItemReaderRequest
from orchestrator.maprun import feeder
from orchestrator.readers import open_items

#: Plain rows, then rows that need the JSON encoder: a quoted newline, a CRLF line, an escaped
#: delimiter, a blank line, a short row, a control character; a BOM before the header.
ROWS = b"".join(b"%d,item-%d,%d\n" % (i, i, i * 7) for i in range(40)) + (
    b'40,"two\nlines",1\r\n41,x\\,y,2\n\n42\n43,tab\there,3\n'
) + b"".join(b"%d,item-%d,%d\n" % (i, i, i * 7) for i in range(44, 130))
CSV = "\ufeffid,name,amount\n".encode() + ROWS


def _reader(bucket: str) -> ItemReaderRequest:
    return ItemReaderRequest.of_asl({
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket": bucket, "Key": "rows.csv"},
        "ReaderConfig": {"InputType": "CSV"},
    })


def _expected_rows(s3: Any, bucket: str) -> list[Any]:
    with open_items(_reader(bucket), None, s3) as stream:
        return [item.value for item in stream]


def _fed_batches(world: World, arn: str) -> list[list[Any]]:
    run = world.store.get(arn)
    assert run is not None and run.reader_done
    inputs: Sequence[str | None] = world.store.child_inputs(arn, list(range(run.feed.next)))
    return [json.loads(text)["Items"] for text in inputs if text is not None]


@pytest.mark.parametrize("kill_at_chunk", [None, 1, 3])
def test_every_csv_row_reaches_exactly_one_child_in_order_even_after_a_killed_feeder(
    s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, kill_at_chunk: int | None
) -> None:
    s3_client.put_object(Bucket=bucket, Key="rows.csv", Body=CSV)
    # Small chunks: the feed stores many chunks, each with its cursor and open batch.
    monkeypatch.setattr(feeder, "CHUNK", 2)
    world = World(s3_factory=lambda: s3_client)
    req = dataclasses.replace(request([], batcher={"MaxItemsPerBatch": 7}),
                              reader=_reader(bucket), items=None)
    arn = world.start(req)
    world.feed_dying_once(arn, kill_at_chunk, lease_ms=feeder.LEASE_MS)
    expected = _expected_rows(s3_client, bucket)
    batches = _fed_batches(world, arn)
    assert len(expected) == 130
    assert [row for batch in batches for row in batch] == expected
    assert [len(batch) for batch in batches] == [7] * 18 + [4]

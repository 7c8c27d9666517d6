"""What a Distributed Map produces, end to end: result files, manifests, inline arrays, readers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_support import REPO, E2E, counts_add_up, distributed_map, make_stack, probe_task
from orchestrator.demo import generate_csv
from workers.handlers.examples import clean


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=4)


def _pass_through() -> dict[str, Any]:
    return {"Echo": {"Type": "Pass", "End": True}}


@pytest.mark.slow
def test_demo_definition_cleans_every_row_of_a_csv(e2e: E2E) -> None:
    rows = 2000
    bucket = e2e.bucket()
    body = generate_csv(rows, seed=11)
    e2e.s3.put_object(Bucket=bucket, Key="in/reviews.csv", Body=body)
    definition = (REPO / "orchestrator" / "examples" / "clean-text.asl.json").read_text()

    described = e2e.run(definition, {"bucket": bucket, "key": "in/reviews.csv"}, timeout=90)

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    (run,) = e2e.map_runs(described["executionArn"])
    map_run_id = run["mapRunArn"].rsplit(":", 1)[-1]
    assert output == {"MapRunArn": run["mapRunArn"], "ResultWriterDetails": {
        "Bucket": bucket, "Key": f"results/clean-text/{map_run_id}/manifest.json"}}
    assert run["itemCounts"]["succeeded"] == rows
    assert run["itemCounts"]["total"] == rows
    assert run["itemCounts"]["resultsWritten"] == rows
    assert run["executionCounts"]["succeeded"] == rows // 100
    assert run["executionCounts"]["total"] == rows // 100
    assert counts_add_up(run["itemCounts"]) and counts_add_up(run["executionCounts"])

    manifest = e2e.manifest(output)
    assert manifest["DestinationBucket"] == bucket
    assert manifest["MapRunArn"] == run["mapRunArn"]
    assert manifest["ResultFiles"]["FAILED"] == []
    assert manifest["ResultFiles"]["PENDING"] == []
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [
        f"results/clean-text/{map_run_id}/SUCCEEDED_0.json"]
    records = e2e.result_records(manifest, "SUCCEEDED")
    assert len(records) == rows // 100
    assert {r["Status"] for r in records} == {"SUCCEEDED"}

    raw = list(csv.DictReader(io.StringIO(body.decode())))
    expected = [{**row, "text": clean(row["text"])} for row in raw]
    inputs, cleaned = [], []
    for record in records:
        out = json.loads(record["Output"])
        assert out["count"] == len(out["Items"]) == 100
        inputs.extend(json.loads(record["Input"])["Items"])
        cleaned.extend(out["Items"])
    # Records are written in child order, so rows come back in file order, each exactly once.
    assert inputs == raw
    assert cleaned == expected
    assert all(set(r["text"]) <= set("abcdefghijklmnopqrstuvwxyz ") for r in cleaned)


def test_result_writer_jsonl_compact_writes_one_output_per_line(e2e: E2E) -> None:
    bucket = e2e.bucket()
    ns = e2e.unique("jsonl")
    definition = distributed_map(
        probe_task(), "Work", MaxConcurrency=4,
        ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value", "sleep": 0},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                      "Parameters": {"Bucket": bucket, "Prefix": "out"},
                      "WriterConfig": {"OutputType": "JSONL", "Transformation": "COMPACT"}},
    )
    described = e2e.run(definition, list(range(25)))

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    map_run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    assert output["ResultWriterDetails"] == {"Bucket": bucket, "Key": f"out/{map_run_id}/manifest.json"}
    manifest = e2e.manifest(output)
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [
        f"out/{map_run_id}/SUCCEEDED_0.jsonl"]
    text = e2e.get_text(bucket, f"out/{map_run_id}/SUCCEEDED_0.jsonl")
    assert [json.loads(line) for line in text.splitlines()] == [
        {"id": i, "out": i * 10} for i in range(25)]


def test_without_result_writer_the_output_array_keeps_item_order(e2e: E2E) -> None:
    # Later items finish first (item i sleeps (19 - i) * 20 ms) so completion order is reversed.
    ns = e2e.unique("inline")
    definition = distributed_map(
        probe_task(), "Work", MaxConcurrency=0,
        ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value.id",
                      "sleep.$": "$$.Map.Item.Value.sleep"},
    )
    items = [{"id": i, "sleep": (19 - i) * 0.02} for i in range(20)]
    described = e2e.run(definition, items)

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [{"id": i, "out": i * 10} for i in range(20)]


def test_item_reader_reads_a_json_array_file(e2e: E2E) -> None:
    bucket = e2e.bucket()
    items = [{"name": f"n{i}", "n": i} for i in range(30)]
    e2e.s3.put_object(Bucket=bucket, Key="data/items.json", Body=json.dumps(items).encode())
    definition = distributed_map(
        _pass_through(), "Echo", MaxConcurrency=5,
        ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": "data/items.json"}},
    )
    described = e2e.run(definition, {})

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == items
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["itemCounts"]["succeeded"] == run["itemCounts"]["total"] == 30


def test_item_reader_lists_an_s3_prefix(e2e: E2E) -> None:
    bucket = e2e.bucket()
    keys = [f"logs/2026/part-{i:03d}.txt" for i in range(7)]
    for i, key in enumerate(keys):
        e2e.s3.put_object(Bucket=bucket, Key=key, Body=b"x" * i)
    e2e.s3.put_object(Bucket=bucket, Key="other/ignored.txt", Body=b"no")
    definition = distributed_map(
        _pass_through(), "Echo", MaxConcurrency=3,
        ItemReader={"Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket, "Prefix": "logs/"}},
        ItemSelector={"key.$": "$$.Map.Item.Value.Key", "size.$": "$$.Map.Item.Value.Size",
                      "source.$": "$$.Map.Item.Source"},
    )
    described = e2e.run(definition, {})

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [
        {"key": key, "size": i, "source": f"S3://{bucket}"} for i, key in enumerate(keys)]


def test_item_selector_sees_the_item_index(e2e: E2E) -> None:
    definition = distributed_map(
        _pass_through(), "Echo", MaxConcurrency=4,
        ItemsPath="$.letters",
        ItemSelector={"index.$": "$$.Map.Item.Index", "letter.$": "$$.Map.Item.Value",
                      "tag.$": "$.tag"},
    )
    letters = [chr(ord("a") + i) for i in range(15)]
    described = e2e.run(definition, {"letters": letters, "tag": "t1"})

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [
        {"index": i, "letter": letter, "tag": "t1"} for i, letter in enumerate(letters)]


def test_item_batcher_groups_items_and_adds_batch_input(e2e: E2E) -> None:
    definition = distributed_map(
        _pass_through(), "Echo", MaxConcurrency=2,
        ItemBatcher={"MaxItemsPerBatch": 4, "BatchInput": {"factor.$": "$.factor", "fixed": 1}},
    )
    # Items come from the state input array itself (no ItemsPath): one batch per 4 items.
    items = list(range(10))
    machine = e2e.create_machine({**definition, "States": {"Map": {
        **definition["States"]["Map"], "ItemsPath": "$.values"}}})
    described = e2e.wait(e2e.start(machine, {"values": items, "factor": 3}))

    assert described["status"] == "SUCCEEDED", described
    batch_input = {"factor": 3, "fixed": 1}
    assert json.loads(described["output"]) == [
        {"Items": [0, 1, 2, 3], "BatchInput": batch_input},
        {"Items": [4, 5, 6, 7], "BatchInput": batch_input},
        {"Items": [8, 9], "BatchInput": batch_input},
    ]
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["itemCounts"]["succeeded"] == run["itemCounts"]["total"] == 10
    assert run["executionCounts"]["succeeded"] == run["executionCounts"]["total"] == 3


@pytest.mark.slow
def test_an_item_nested_thousands_deep_fails_the_map_run_naming_the_item(e2e: E2E) -> None:
    # Issue 9: the control worker used to retry such an item every ~2.7 s for ever.
    bucket = e2e.bucket()
    depth = 5000
    body = b'[{"n": 0}, ' + b"[" * depth + b"]" * depth + b"]"
    e2e.s3.put_object(Bucket=bucket, Key="data/deep.json", Body=body)
    definition = distributed_map(
        _pass_through(), "Echo",
        ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": "data/deep.json"}},
    )
    described = e2e.run(definition, {})

    assert described["status"] == "FAILED", described
    assert described["error"] == "States.ItemReaderFailed"
    assert f"Item 1 (0-based position in the dataset) read from S3://{bucket}/data/deep.json" in (
        described["cause"])

"""The issue's scale examples on a real stack: a two-level Distributed Map over 20,000 S3
objects listed by prefix, and a 1,000,000-row CSV in batches of 1,000."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from e2e_support import E2E, counts_add_up, make_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=2)


def _put_objects(e2e: E2E, bucket: str, prefix: str, n: int) -> None:
    def put(i: int) -> None:
        e2e.s3.put_object(Bucket=bucket, Key=f"{prefix}obj-{i:05d}.json",
                          Body=json.dumps({"id": i, "v": i % 7}).encode())

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(n)))


def _nested_definition(bucket: str, prefix: str) -> dict[str, Any]:
    grandchild = {
        "StartAt": "EachObject",
        "States": {
            "EachObject": {"Type": "Map", "ItemsPath": "$.Items",
                           "ItemProcessor": {"StartAt": "Size", "States": {
                               "Size": {"Type": "Pass", "Parameters": {"s.$": "$.Size"}, "End": True}}},
                           "Next": "Count"},
            "Count": {"Type": "Pass", "Parameters": {"count.$": "States.ArrayLength($)"}, "End": True},
        },
    }
    child = {
        "StartAt": "Nested",
        "States": {"Nested": {
            "Type": "Map", "ItemsPath": "$.Items", "ItemBatcher": {"MaxItemsPerBatch": 50},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                              **grandchild},
            "ResultSelector": {"batches.$": "States.ArrayLength($)", "counts.$": "$[*].count"},
            "End": True}},
    }
    return {"StartAt": "Outer", "States": {"Outer": {
        "Type": "Map", "Label": "Outer",
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                       "Parameters": {"Bucket": bucket, "Prefix": prefix}},
        "ItemBatcher": {"MaxItemsPerBatch": 5000},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          **child},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": bucket, "Prefix": "nested-results"}},
        "End": True}}}


def test_two_level_distributed_map_over_20000_listed_objects(e2e: E2E) -> None:
    # Given 20,000 small JSON objects under one prefix
    bucket = e2e.bucket()
    _put_objects(e2e, bucket, "data/", 20_000)
    # When the parent batches them by 5,000 and each child runs its own Distributed Map
    # over batches of 50 with an inline Map inside
    execution = e2e.start(e2e.create_machine(_nested_definition(bucket, "data/")), {})
    described = e2e.wait(execution, timeout=240)
    assert described["status"] == "SUCCEEDED", described
    # Then the parent's Map Run counted every object once, in 4 children
    (parent_run,) = e2e.map_runs(execution)
    run = e2e.sfn.describe_map_run(mapRunArn=parent_run["mapRunArn"])
    assert run["itemCounts"]["succeeded"] == 20_000
    assert run["executionCounts"]["total"] == 4
    assert counts_add_up(run["itemCounts"])
    # and each child is visible with its own Map Run of 5,000 items in 100 batches
    children = e2e.children(parent_run["mapRunArn"])
    assert len(children) == 4
    for child in children:
        (nested,) = e2e.map_runs(child["executionArn"])
        nested_run = e2e.sfn.describe_map_run(mapRunArn=nested["mapRunArn"])
        assert nested_run["itemCounts"]["succeeded"] == 5_000
        assert nested_run["executionCounts"]["succeeded"] == 100
        assert nested_run["executionArn"] == child["executionArn"]
    # and the ResultWriter files hold every child's output
    output = json.loads(described["output"])
    records = e2e.result_records(e2e.manifest(output), "SUCCEEDED")
    assert len(records) == 4
    outputs = [json.loads(r["Output"]) for r in records]
    assert all(o["batches"] == 100 for o in outputs)
    assert sum(sum(o["counts"]) for o in outputs) == 20_000


def test_one_million_csv_rows_in_batches_of_1000(e2e: E2E) -> None:
    # Given a 1,000,000-row CSV in S3
    bucket = e2e.bucket()
    body = io.StringIO()
    body.write("id,name,score\n")
    for i in range(1_000_000):
        body.write(f"{i},row{i},{i % 100}\n")
    e2e.s3.put_object(Bucket=bucket, Key="big.csv", Body=body.getvalue().encode())
    definition = {"StartAt": "Rows", "States": {"Rows": {
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                       "Parameters": {"Bucket": bucket, "Key": "big.csv"}},
        "ItemBatcher": {"MaxItemsPerBatch": 1000},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "Count", "States": {"Count": {
                              "Type": "Pass",
                              "Parameters": {"n.$": "States.ArrayLength($.Items)",
                                             "first.$": "$.Items[0].id"},
                              "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": bucket, "Prefix": "big"},
                         "WriterConfig": {"OutputType": "JSONL", "Transformation": "COMPACT"}},
        "End": True}}}
    # When it runs
    execution = e2e.start(e2e.create_machine(definition), {})
    described = e2e.wait(execution, timeout=300)
    assert described["status"] == "SUCCEEDED", described
    # Then every row was processed exactly once, 1,000 per child, in order
    (run_item,) = e2e.map_runs(execution)
    run = e2e.sfn.describe_map_run(mapRunArn=run_item["mapRunArn"])
    assert run["itemCounts"]["succeeded"] == 1_000_000
    assert run["executionCounts"]["succeeded"] == 1_000
    assert counts_add_up(run["itemCounts"]) and counts_add_up(run["executionCounts"])
    manifest = e2e.manifest(json.loads(described["output"]))
    lines = e2e.result_records(manifest, "SUCCEEDED")
    assert len(lines) == 1_000
    assert all(line["n"] == 1000 for line in lines)
    assert [line["first"] for line in lines] == [str(i * 1000) for i in range(1000)]
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []

"""Children that read their own byte ranges of a CSV (issue 14), on real processes: a children
worker SIGKILLed while it runs range children, and a control worker SIGKILLed mid-run, lose
and duplicate no item in the result files; a row the parser rejects fails the Map Run with
the parser's cause. (The planner killed between two of its chunks: the deterministic fault
injection of tests/integration/maprun/test_range_children.py.)"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_support import E2E, distributed_map, make_stack

pytestmark = pytest.mark.slow

ROWS = 40 * 32  # 40 children of 32 rows (the smallest batch that reads its own range)


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"lease_seconds": 3}}, workers=2, concurrency=3,
                          worker_env={"STEPMAP_CELERY__VISIBILITY_TIMEOUT": "10"})


def _csv(bad_row: int | None = None) -> bytes:
    lines = [b"id,name,note"]
    for i in range(ROWS):
        # Some rows the planner must parse (quoted newline, escaped delimiter), most plain.
        note = b'"two\nlines"' if i % 97 == 5 else (b"a\\,b" if i % 89 == 7 else b"plain")
        name = b"caf\xe9" if i == bad_row else b"item-%d" % i
        lines.append(b"%d,%s,%s" % (i, name, note))
    return b"\n".join(lines) + b"\n"


def _definition(ns: str, data: str, results: str) -> dict[str, Any]:
    work = {"Work": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "probe-gauge",
                       "Payload": {"probe": ns, "id.$": "$.Items[0].id", "sleep": 0.3}},
        "OutputPath": "$.Payload", "End": True}}
    return distributed_map(
        work, "Work", MaxConcurrency=6,
        ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket": data, "Key": "rows.csv"},
                    "ReaderConfig": {"InputType": "CSV"}},
        ItemBatcher={"MaxItemsPerBatch": 32, "BatchInput": {"probe": ns}},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                      "Parameters": {"Bucket": results, "Prefix": "out"}})


def _start(e2e: E2E, ns: str, data: bytes = _csv()) -> str:
    bucket = e2e.bucket()
    e2e.s3.put_object(Bucket=bucket, Key="rows.csv", Body=data)
    return e2e.start(e2e.create_machine(_definition(ns, bucket, bucket)), {})


def _assert_every_row_once(e2e: E2E, described: dict[str, Any]) -> None:
    assert described["status"] == "SUCCEEDED", described
    (run,) = e2e.map_runs(described["executionArn"])
    counts = run["itemCounts"]
    assert (counts["succeeded"], counts["total"], counts["failed"], counts["pending"]) == (
        ROWS, ROWS, 0, 0)
    manifest = e2e.manifest(json.loads(described["output"]))
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    records = e2e.result_records(manifest, "SUCCEEDED")
    assert len(records) == ROWS // 32
    ids = Counter(int(row["id"]) for r in records for row in json.loads(r["Input"])["Items"])
    assert ids == Counter(range(ROWS))  # every row once, in its result record's real input
    notes = [row["note"] for r in records for row in json.loads(r["Input"])["Items"]]
    assert notes.count("two\nlines") == len([i for i in range(ROWS) if i % 97 == 5])
    assert notes.count("a,b") == len([i for i in range(ROWS) if i % 89 == 7 and i % 97 != 5])
    # DescribeExecution of a child shows its real input too.
    child = e2e.children(run["mapRunArn"])[0]
    shown = e2e.sfn.describe_execution(executionArn=child["executionArn"])
    assert json.loads(shown["input"])["BatchInput"] == json.loads(records[0]["Input"])["BatchInput"]


def test_a_children_worker_killed_while_running_range_children_loses_and_duplicates_nothing(
        e2e: E2E) -> None:
    ns = e2e.unique("rkill")
    arn = _start(e2e, ns)
    e2e.wait_done(ns, 8, timeout=60)
    finished = {d["id"] for d in e2e.probe(ns, "done")}
    in_flight = Counter(s["worker"] for s in e2e.probe(ns, "starts") if s["id"] not in finished)
    by_pid = {e2e.stack.processes[name].pid: name for name in e2e.stack.worker_names("children")}
    victim = by_pid[in_flight.most_common(1)[0][0]]
    e2e.stack.kill_worker(victim)  # SIGKILL to the whole process group, mid-run
    time.sleep(1.0)
    e2e.stack.restart_worker(victim)
    described = e2e.wait(arn, timeout=120)
    assert len(e2e.probe(ns, "starts")) > len(e2e.probe(ns, "done")), "no child was interrupted"
    _assert_every_row_once(e2e, described)


def test_a_control_worker_killed_mid_run_resumes_range_children(e2e: E2E) -> None:
    ns = e2e.unique("rctl")
    arn = _start(e2e, ns)
    e2e.wait_done(ns, 8, timeout=60)
    e2e.stack.restart_worker("control", kill=True)  # SIGKILL, then a fresh process
    _assert_every_row_once(e2e, e2e.wait(arn, timeout=120))


def test_a_row_the_parser_rejects_fails_the_map_run_naming_its_line(e2e: E2E) -> None:
    ns = e2e.unique("rbad")
    described = e2e.wait(_start(e2e, ns, _csv(bad_row=700)), timeout=120)
    assert described["status"] == "FAILED", described
    assert described["error"] == "States.ItemReaderFailed"
    assert "Invalid UTF-8 in CSV" in described["cause"] and "rows.csv at line" in described["cause"]
    assert "byte offset" in described["cause"]

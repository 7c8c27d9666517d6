"""The aws CLI drives a Distributed Map state machine on a stack with SigV4 authentication on.

Create (published as version 1), update (version 2), list versions, alias with routing, tag,
run through the alias, inspect the execution, its Map Run and its history: every call is an
``aws stepfunctions`` command (the real awscli package, signing with SigV4), never boto3.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.config import Config

from e2e_support import E2E, distributed_map, make_stack, probe_task

KEY_ID = "AKIDSTEPMAPCLITEST01"
SECRET = "cli-secret-for-the-e2e-test"
ROLE = "arn:aws:iam::000000000000:role/stepmap"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    secret_file = tmp_path_factory.mktemp("secrets") / "cli.secret"
    secret_file.write_text(SECRET)
    keys = [{"access_key_id": KEY_ID, "secret_file": str(secret_file), "scope": "admin"}]
    yield from make_stack({"api": {"auth_enabled": True, "access_keys": keys}},
                          workers=1, concurrency=4)


def cli(e2e: E2E, *args: str, secret: str = SECRET, check: bool = True) -> Any:
    """Run ``aws stepfunctions <args>`` against the stack; the parsed JSON output."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "stepfunctions", *args,
         "--endpoint-url", e2e.stack.api_url, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    if not check:
        return done
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def signed_sfn(e2e: E2E) -> Any:
    """boto3 signing with the test's key (no hooks), host prefix off for the sync operations."""
    return boto3.client("stepfunctions", endpoint_url=e2e.stack.api_url, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        config=Config(inject_host_prefix=False))


def definition(ns: str, concurrency: int) -> str:
    return json.dumps(distributed_map(
        probe_task(), "Work", MaxConcurrency=concurrency,
        ItemSelector={"probe": ns, "id.$": "$$.Map.Item.Value", "sleep": 0},
    ))


def test_aws_cli_manages_and_runs_a_distributed_map(e2e: E2E, tmp_path: Path) -> None:
    ns = e2e.unique("cli")
    first, second = tmp_path / "v1.json", tmp_path / "v2.json"
    first.write_text(definition(ns, 2))
    second.write_text(definition(ns, 3))

    created = cli(e2e, "create-state-machine", "--name", e2e.unique("cli-dmap"),
                  "--definition", f"file://{first}", "--role-arn", ROLE, "--publish",
                  "--version-description", "two at a time",
                  "--tags", "key=team,value=data")
    machine = created["stateMachineArn"]
    assert created["stateMachineVersionArn"] == machine + ":1"
    updated = cli(e2e, "update-state-machine", "--state-machine-arn", machine,
                  "--definition", f"file://{second}", "--publish")
    assert updated["stateMachineVersionArn"] == machine + ":2"
    assert cli(e2e, "describe-state-machine", "--state-machine-arn", machine)[
        "revisionId"] == updated["revisionId"]
    versions = cli(e2e, "list-state-machine-versions", "--state-machine-arn", machine)
    assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [
        machine + ":2", machine + ":1"]
    alias = cli(e2e, "create-state-machine-alias", "--name", "live", "--routing-configuration",
                f"stateMachineVersionArn={machine}:2,weight=100")["stateMachineAliasArn"]
    cli(e2e, "tag-resource", "--resource-arn", machine, "--tags", "key=env,value=test")
    tags = cli(e2e, "list-tags-for-resource", "--resource-arn", machine)["tags"]
    assert sorted((t["key"], t["value"]) for t in tags) == [("env", "test"), ("team", "data")]

    run = cli(e2e, "start-execution", "--state-machine-arn", alias, "--name", "via-cli",
              "--input", json.dumps(list(range(6))))["executionArn"]
    deadline = time.monotonic() + 120
    described = cli(e2e, "describe-execution", "--execution-arn", run)
    while described["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.5)
        described = cli(e2e, "describe-execution", "--execution-arn", run)
    assert described["status"] == "SUCCEEDED", described
    assert (described["stateMachineVersionArn"], described["stateMachineAliasArn"]) == (
        machine + ":2", alias)
    assert json.loads(described["output"]) == [{"id": i, "out": i * 10} for i in range(6)]
    (listed,) = cli(e2e, "list-map-runs", "--execution-arn", run)["mapRuns"]
    map_run = cli(e2e, "describe-map-run", "--map-run-arn", listed["mapRunArn"])
    assert (map_run["status"], map_run["maxConcurrency"]) == ("SUCCEEDED", 3)
    assert map_run["itemCounts"]["succeeded"] == 6
    events = cli(e2e, "get-execution-history", "--execution-arn", run)["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"
    ran = cli(e2e, "describe-state-machine-for-execution", "--execution-arn", run)
    assert json.loads(ran["definition"])["States"]["Map"]["MaxConcurrency"] == 3


def test_aws_cli_with_a_wrong_secret_is_refused(e2e: E2E) -> None:
    done = cli(e2e, "list-state-machines", secret="not-the-secret", check=False)
    assert done.returncode != 0
    assert "InvalidSignatureException" in done.stderr


def test_start_sync_execution_runs_an_express_parent(e2e: E2E) -> None:
    """boto3 (signing with the same key, host prefix off) waits for an EXPRESS parent's end.

    (A Distributed Map needs a STANDARD machine, so the EXPRESS parent maps inline.)
    """
    sfn = signed_sfn(e2e)
    ns = e2e.unique("sync")
    inline = {"StartAt": "Map", "States": {"Map": {
        "Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
                                         "StartAt": "Work", "States": probe_task()},
        "ItemSelector": {"probe": ns, "id.$": "$$.Map.Item.Value", "sleep": 0}, "End": True}}}
    machine = sfn.create_state_machine(
        name=e2e.unique("sync"), definition=json.dumps(inline), roleArn=ROLE, type="EXPRESS",
    )["stateMachineArn"]
    out = sfn.start_sync_execution(stateMachineArn=machine, input=json.dumps([1, 2, 3]))
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == [{"id": i, "out": i * 10} for i in (1, 2, 3)]


def test_distributed_map_reads_a_parquet_object(e2e: E2E) -> None:
    """InputType PARQUET end to end: rows of three row groups become the children's items."""
    bucket = e2e.bucket()
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(7)), "name": [f"n{i}" for i in range(7)]}), sink,
                   row_group_size=3)
    e2e.s3.put_object(Bucket=bucket, Key="rows.parquet", Body=sink.getvalue())
    state = json.loads(definition(e2e.unique("pq"), 4))
    state["States"]["Map"]["ItemReader"] = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "PARQUET"},
        "Parameters": {"Bucket": bucket, "Key": "rows.parquet"},
    }
    state["States"]["Map"]["ItemSelector"]["id.$"] = "$$.Map.Item.Value.id"
    sfn = signed_sfn(e2e)
    machine = sfn.create_state_machine(name=e2e.unique("pq"), definition=json.dumps(state),
                                       roleArn=ROLE)["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 120
    described = sfn.describe_execution(executionArn=run)
    while described["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        described = sfn.describe_execution(executionArn=run)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [{"id": i, "out": i * 10} for i in range(7)]

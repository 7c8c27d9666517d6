"""The demo behind ``make demo`` / ``stepmap demo``: a real Distributed Map on a local stack.

It generates a CSV with a free-text column, uploads it to the local S3 server, registers the
example state machine (``orchestrator/examples/clean-text.asl.json``) through the AWS SDK's
Step Functions client pointed at stepmap's API, starts an execution and follows its Map Run
with a live progress bar until the results are in S3.
"""

from __future__ import annotations

import io
import json
import random
import time
from importlib import resources
from typing import Any

import boto3
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestrator.settings import Settings

DEMO_BUCKET = "stepmap-demo"
DEMO_KEY = "input/reviews.csv"
_WORDS = ("great", "product", "arrived", "late", "box", "was", "damaged", "but", "works",
          "fine", "would", "buy", "again", "terrible", "support", "fast", "shipping", "love",
          "it", "not", "worth", "the", "price", "five", "stars")
_NOISE = ("!!", "...", "#", "42", "?!", " ", "  ", "--", "&", "(", ")", "9.99", "@", "\t")


def example_definition() -> str:
    """The demo's state machine definition (a file a user can copy)."""
    return resources.files("orchestrator").joinpath("examples/clean-text.asl.json").read_text()


def generate_csv(rows: int, seed: int = 7) -> bytes:
    """A CSV with ``id,text,stars`` where ``text`` is noisy free text."""
    rnd = random.Random(seed)
    out = io.StringIO()
    out.write("id,text,stars\n")
    for i in range(rows):
        words = []
        for _ in range(rnd.randint(4, 12)):
            words.append(rnd.choice(_WORDS))
            if rnd.random() < 0.4:
                words.append(rnd.choice(_NOISE))
        text = " ".join(words).replace('"', "")
        out.write(f'{i},"{text}",{rnd.randint(1, 5)}\n')
    return out.getvalue().encode()


def _clients(api_url: str, s3_url: str) -> tuple[Any, Any]:
    creds = {"aws_access_key_id": "stepmap", "aws_secret_access_key": "stepmap",
             "region_name": "us-east-1"}
    return (boto3.client("stepfunctions", endpoint_url=api_url, **creds),
            boto3.client("s3", endpoint_url=s3_url, **creds))


def drive(api_url: str, s3_url: str, console: Console, rows: int = 100_000) -> int:
    """Run the demo against a running stack; returns the process exit code."""
    sfn, s3 = _clients(api_url, s3_url)
    try:
        s3.create_bucket(Bucket=DEMO_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    console.print(f"Generating {rows:,} CSV rows and uploading s3://{DEMO_BUCKET}/{DEMO_KEY} ...")
    s3.put_object(Bucket=DEMO_BUCKET, Key=DEMO_KEY, Body=generate_csv(rows))

    machine = sfn.create_state_machine(
        name="clean-text-demo", definition=example_definition(), type="STANDARD",
        roleArn="arn:aws:iam::000000000000:role/stepmap",
    )
    started = time.monotonic()
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        input=json.dumps({"bucket": DEMO_BUCKET, "key": DEMO_KEY}),
    )
    arn = execution["executionArn"]
    console.print(f"Started [bold]{arn}[/bold]")
    status, counts = _follow(sfn, arn, console, rows)
    wall = time.monotonic() - started
    described = sfn.describe_execution(executionArn=arn)
    table = Table(title="stepmap demo", show_header=False)
    table.add_row("execution status", described["status"])
    table.add_row("items succeeded", f"{counts.get('succeeded', 0):,}")
    table.add_row("items failed", f"{counts.get('failed', 0) + counts.get('timedOut', 0):,}")
    table.add_row("child executions", f"{counts.get('children', 0):,}")
    table.add_row("wall time", f"{wall:.1f} s")
    table.add_row("throughput", f"{counts.get('succeeded', 0) / wall:,.0f} items/s")
    manifest_key = None
    if described["status"] == "SUCCEEDED":
        output = json.loads(described["output"])
        details = output.get("ResultWriterDetails", {})
        manifest_key = details.get("Key")
        table.add_row("manifest", f"s3://{details.get('Bucket')}/{manifest_key}")
        manifest = json.loads(s3.get_object(Bucket=details["Bucket"], Key=manifest_key)["Body"].read())
        for kind, files in sorted(manifest["ResultFiles"].items()):
            for f in files:
                table.add_row(f"{kind.lower()} file", f"s3://{details['Bucket']}/{f['Key']} ({f['Size']:,} bytes)")
    else:
        table.add_row("error", f"{described.get('error')}: {described.get('cause')}")
    console.print(table)
    ok = described["status"] == "SUCCEEDED" and counts.get("succeeded") == rows
    return 0 if ok else 1


def _follow(sfn: Any, arn: str, console: Console, rows: int) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("items", total=rows, detail="")
        while True:
            status = sfn.describe_execution(executionArn=arn)["status"]
            runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
            if runs:
                run = sfn.describe_map_run(mapRunArn=runs[-1]["mapRunArn"])
                items = run["itemCounts"]
                done = items["succeeded"] + items["failed"] + items["timedOut"] + items["aborted"]
                counts = {**items, "children": run["executionCounts"]["total"]}
                bar.update(task, completed=done, total=max(rows, items["total"]),
                           detail=f"running {items['running']:,}  failed {items['failed']:,}")
            if status != "RUNNING":
                return status, counts
            time.sleep(0.25)


def run_demo(settings: Settings | None = None, console: Console | None = None, *,
             rows: int = 100_000, workers: int = 2) -> int:
    """Start an embedded local stack, run the demo on it, stop everything; returns an exit code."""
    from orchestrator.devstack.stack import LocalStack

    console = console or Console()
    with LocalStack(base_settings=settings, workers=workers, flower=False, loglevel="WARNING") as stack:
        console.print(f"Local stack up: API {stack.api_url}, S3 {stack.s3_url}")
        return drive(stack.api_url, stack.s3_url, console, rows)

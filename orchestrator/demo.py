"""The demo behind ``make demo`` / ``stepmap demo``: a real Distributed Map on a local stack.

It generates a CSV with a free-text column, uploads it to the local S3 server, registers the
example state machine (``orchestrator/examples/clean-text.asl.json``) through the AWS SDK's
Step Functions client pointed at stepmap's API, starts an execution and follows its Map Run
with a live progress bar (items/s, ETA) until the results are in S3, then says what to do
next. With ``keep`` the stack and its results stay up until Ctrl-C.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import boto3
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from orchestrator.settings import Settings

DEMO_BUCKET = "stepmap-demo"
DEMO_KEY = "input/reviews.csv"
_WORDS = ("great", "product", "arrived", "late", "box", "was", "damaged", "but", "works",
          "fine", "would", "buy", "again", "terrible", "support", "fast", "shipping", "love",
          "it", "not", "worth", "the", "price", "five", "stars")
_NOISE = ("!!", "...", "#", "42", "?!", " ", "  ", "--", "&", "(", ")", "9.99", "@", "\t")


EXAMPLE = "examples/clean-text.asl.json"


def example_definition() -> str:
    """The demo's state machine definition (a file a user can copy)."""
    return resources.files("orchestrator").joinpath(EXAMPLE).read_text()


def example_path() -> str:
    """Where the example definition is installed (to copy it)."""
    return str(resources.files("orchestrator").joinpath(EXAMPLE))


@dataclass
class DemoRun:
    """What the demo ran and where to look at it."""

    code: int = 1
    execution_arn: str = ""
    map_run_arn: str = ""
    result_keys: list[str] = field(default_factory=list)


def throughput_note(definition: str) -> str:
    """Why the demo runs at the speed it does: its batch size and MaxConcurrency."""
    state = json.loads(definition)["States"]["CleanRows"]
    batch = state.get("ItemBatcher", {}).get("MaxItemsPerBatch", 1)
    concurrency = state.get("MaxConcurrency", 0)
    return (f"Throughput settings: {batch} rows per child workflow (ItemBatcher.MaxItemsPerBatch) "
            f"and at most {concurrency} children at once (MaxConcurrency), on the workers of "
            "this one machine. `make bench` runs a 1,000,000-row CSV at 1,000 rows per child "
            "(its figures are in the README's Development section); raise MaxItemsPerBatch, "
            "MaxConcurrency (or UpdateMapRun while it runs) and `--workers` to go faster.")


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


def drive(api_url: str, s3_url: str, console: Console, rows: int = 100_000) -> DemoRun:
    """Run the demo against a running stack; returns what ran and its exit code."""
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
    console.print(throughput_note(example_definition()), style="dim")
    run = DemoRun(execution_arn=arn)
    status, counts, run.map_run_arn = _follow(sfn, arn, console, rows)
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
        run.result_keys.append(f"manifest: s3://{details.get('Bucket')}/{manifest_key}")
        manifest = json.loads(s3.get_object(Bucket=details["Bucket"], Key=manifest_key)["Body"].read())
        for kind, files in sorted(manifest["ResultFiles"].items()):
            for f in files:
                run.result_keys.append(f"{kind.lower()} file ({f['Size']:,} bytes): "
                                       f"s3://{details['Bucket']}/{f['Key']}")
    else:
        table.add_row("error", f"{described.get('error')}: {described.get('cause')}")
    console.print(table)
    # Full keys on lines of their own: never cut at the terminal's width.
    for key in run.result_keys:
        console.print(Text(key), soft_wrap=True)
    ok = described["status"] == "SUCCEEDED" and counts.get("succeeded") == rows
    run.code = 0 if ok else 1
    return run


class Rate:
    """Items/s over the last ``window`` seconds of (time, finished items) samples, and an ETA."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, t: float, done: int) -> None:
        """Record that ``done`` items were finished at time ``t`` (seconds)."""
        self.samples.append((t, done))
        while len(self.samples) > 2 and t - self.samples[0][0] > self.window:
            self.samples.popleft()

    def per_second(self) -> float | None:
        """Items/s over the window, or None before two samples."""
        if len(self.samples) < 2:
            return None
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def describe(self, remaining: int) -> str:
        """``"1,234 items/s  ETA 12 s"`` (dashes until there is a rate)."""
        rate = self.per_second()
        if not rate:
            return "— items/s  ETA —"
        return f"{rate:,.0f} items/s  ETA {remaining / rate:,.0f} s"


def _follow(sfn: Any, arn: str, console: Console, rows: int) -> tuple[str, dict[str, int], str]:
    counts: dict[str, int] = {}
    map_run = ""
    rate = Rate()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("items", total=rows, detail="")
        while True:
            status = sfn.describe_execution(executionArn=arn)["status"]
            runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
            if runs:
                map_run = runs[-1]["mapRunArn"]
                run = sfn.describe_map_run(mapRunArn=map_run)
                items = run["itemCounts"]
                done = items["succeeded"] + items["failed"] + items["timedOut"] + items["aborted"]
                counts = {**items, "children": run["executionCounts"]["total"]}
                rate.add(time.monotonic(), done)
                bar.update(task, completed=done, total=max(rows, items["total"]),
                           detail=f"{rate.describe(max(rows, items['total']) - done)}  "
                                  f"running {items['running']:,}  failed {items['failed']:,}")
            if status != "RUNNING":
                return status, counts, map_run
            time.sleep(0.25)


def next_steps(console: Console, run: DemoRun, api_url: str | None) -> None:
    """What to do after the demo: the console, `stepmap dev`, the definition to copy."""
    console.print("\n[bold]Next[/bold]")
    if api_url:
        console.print("  Watch this Map Run in the console:", soft_wrap=True)
        console.print(Text(f"    {api_url}/console/#/mr/{run.map_run_arn}"), soft_wrap=True)
    else:
        console.print("  Keep a stack up with [bold]stepmap demo --keep[/bold], or run "
                      "[bold]stepmap dev[/bold] and open http://127.0.0.1:8080/console/")
    console.print("  Run your own state machines: [bold]stepmap dev[/bold] (API, console, workers, "
                  "Flower on 127.0.0.1), then point boto3 at http://127.0.0.1:8080 (README, "
                  "'Using it').")
    console.print("  Start from the example definition:", soft_wrap=True)
    console.print(Text(f"    {example_path()}"), soft_wrap=True)


def run_demo(settings: Settings | None = None, console: Console | None = None, *,
             rows: int = 100_000, workers: int = 2, keep: bool = False) -> int:
    """Start an embedded local stack, run the demo on it, stop everything; returns an exit code.

    With ``keep`` the stack (API, console, S3 with the results, workers) stays up until Ctrl-C.
    """
    from orchestrator.devstack.stack import LocalStack

    console = console or Console()
    with LocalStack(base_settings=settings, workers=workers, flower=False, loglevel="WARNING") as stack:
        console.print(f"Local stack up: API {stack.api_url}, S3 {stack.s3_url}")
        run = drive(stack.api_url, stack.s3_url, console, rows)
        next_steps(console, run, stack.api_url if keep else None)
        if keep:
            _hold(console, stack)
        return run.code


def _hold(console: Console, stack: Any) -> None:
    console.print(f"\n[bold green]Stack kept.[/] Console {stack.api_url}/console/ · S3 "
                  f"{stack.s3_url} (results in s3://{DEMO_BUCKET}/results/, any access key). "
                  "Ctrl-C stops it.", soft_wrap=True)
    try:
        while not stack.dead():
            time.sleep(0.5)
        console.print("A stack process stopped unexpectedly.", style="bold red")
    except KeyboardInterrupt:
        console.print("Stopping...")

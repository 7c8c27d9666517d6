"""What the CSV Map Run is measured against, and what it leaves in Redis.

* :func:`dictreader_rate`: rows/s of Python's ``csv.DictReader`` over the same CSV bytes, on one
  core of this machine, in the benchmark process: the "as fast as the parser" yardstick of
  issue 14 (a Map Run's items/s divided by it is the ratio the bench prints).
* :func:`measure_pending_memory`: Redis memory per pending item (read from the dataset but not
  yet dispatched): a CSV Map Run held at ``MaxConcurrency`` 1 until its reader has read the
  whole object, then stopped; the growth of Redis ``used_memory`` over its value before the run,
  divided by the pending items. Every byte Redis grew by (the running child's input among them)
  is charged to the pending items, so the figure is an upper bound.
* :class:`PendingMemorySampler`: Redis's peak memory while a Map Run runs (and the same figure
  at its sample with the most pending items: a run whose children are dispatched as fast as
  they are read rarely has any).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import threading
import time
from typing import Any, Self

from bench._stack import redis_client
from orchestrator.devstack.stack import LocalStack

SAMPLE_SECONDS = 0.1


def dictreader_rate(data: bytes, repeat: int = 2) -> tuple[int, list[float]]:
    """(rows, seconds of each of ``repeat`` runs) of ``csv.DictReader`` over ``data`` (UTF-8
    bytes, decoded too)."""
    times: list[float] = []
    rows = 0
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        rows = 0
        for _row in csv.DictReader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8",
                                                    newline="")):
            rows += 1
        times.append(time.perf_counter() - start)
    return rows, times


class PendingMemorySampler:
    """Samples Redis ``used_memory`` and the open Map Runs' pending items in a thread."""

    def __init__(self, stack: LocalStack) -> None:
        from orchestrator.store.connect import open_stores

        assert stack.settings is not None
        self._client = redis_client(stack)
        self._store = open_stores(stack.settings).map_runs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pending-memory", daemon=True)
        self.idle_bytes = 0
        self.max_pending = 0
        self.bytes_at_max = 0
        self.peak_bytes = 0
        self.samples = 0

    def __enter__(self) -> Self:
        self.idle_bytes = self._used()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.close()

    @property
    def bytes_per_pending_item(self) -> float | None:
        """Redis growth per pending item at the most-pending sample (None: never pending)."""
        if not self.max_pending:
            return None
        return (self.bytes_at_max - self.idle_bytes) / self.max_pending

    def _used(self) -> int:
        return int(self._client.info("memory")["used_memory"])

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                pending = 0
                for arn in self._store.open_runs():
                    items, _ = self._store.counters(arn)
                    pending += max(0, items.total - items.dispatched)
                used = self._used()
            except Exception:  # noqa: BLE001 - a sample lost to a busy Redis is skipped
                continue
            self.samples += 1
            self.peak_bytes = max(self.peak_bytes, used)
            if pending > self.max_pending:
                self.max_pending, self.bytes_at_max = pending, used

    def extra(self) -> dict[str, Any]:
        """The figures for a measurement's ``extra``."""
        per_item = self.bytes_per_pending_item
        return {"redis_idle_mb": self.idle_bytes / 2**20,
                "redis_peak_mb": self.peak_bytes / 2**20,
                "redis_max_pending_items": self.max_pending,
                "redis_bytes_per_pending_item": per_item,
                "redis_samples": self.samples}


def measure_pending_memory(stack: LocalStack, rows: int, batch: int = 1000,
                           timeout: float = 300.0) -> Any:
    """Redis bytes per pending item of a ``rows``-row CSV Map Run held at ``MaxConcurrency`` 1
    once its reader has read the whole object (then the execution is stopped)."""
    from bench._stack import BUCKET, ROLE, clients
    from bench.maprun import BenchError, Figure, csv_definition, upload_csv
    from orchestrator.store.connect import open_stores

    assert stack.settings is not None
    sfn, _ = clients(stack)
    key = upload_csv(stack, rows)
    definition = csv_definition(batch)
    definition["States"]["Fan"]["MaxConcurrency"] = 1
    store = open_stores(stack.settings).map_runs
    client = redis_client(stack)
    try:
        idle = int(client.info("memory")["used_memory"])
        machine = sfn.create_state_machine(name=f"pending-{rows}-{time.time_ns()}",
                                           definition=json.dumps(definition), roleArn=ROLE)
        start = time.perf_counter()
        arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                                  input=json.dumps({"bucket": BUCKET, "key": key}))["executionArn"]
        try:
            while True:
                if time.perf_counter() - start > timeout:
                    raise BenchError(f"pending memory: the reader did not finish in {timeout:.0f} s")
                runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
                run = store.get(runs[0]["mapRunArn"]) if runs else None
                if run is not None and run.reader_done:
                    items, _ = store.counters(run.arn)
                    used = int(client.info("memory")["used_memory"])
                    seconds = time.perf_counter() - start
                    pending = max(0, items.total - items.dispatched)
                    break
                time.sleep(0.05)
        finally:
            sfn.stop_execution(executionArn=arn)
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                time.sleep(0.1)
    finally:
        client.close()
    if not pending:
        raise BenchError("pending memory: no item was pending once the reader finished")
    return Figure(f"CSV {rows:,} rows read at MaxConcurrency 1", pending, seconds,
                  "items read/s", {"redis_bytes_per_pending_item": (used - idle) / pending,
                                   "redis_pending_items": pending,
                                   "redis_growth_mb": (used - idle) / 2**20})


# -- the report's CSV lines ------------------------------------------------------------------------

#: Issue 14's goals for the figures below.
GOAL_RATIO, MOONSHOT_RATIO = 0.6, 1.0
GOAL_BYTES_PER_PENDING = 200
GOAL_RSS_OVER_IDLE_RATIO = 1.2
CSV_KEYS = ("csv_small", "csv", "csv_huge")


def measure_parser(rows: int, repeat: int = 2) -> Any:
    """The ``dictreader`` figure: ``csv.DictReader`` over the bench's ``rows``-row CSV, the best
    of ``repeat`` runs (every run's rate and their median in ``extra``, as the Map Runs')."""
    from bench.maprun import Figure, make_csv

    count, times = dictreader_rate(make_csv(rows), repeat)
    fig = Figure("csv.DictReader, one core", count, min(times), "rows/s")
    if len(times) > 1:
        fig.extra["rates"] = [count / t for t in times]
        fig.extra["median_rate"] = statistics.median(fig.extra["rates"])
    return fig


def annotate(figures: dict[str, Any]) -> None:
    """Put the ratios of the CSV runs into their ``extra`` (so the JSON output has them)."""
    parser = figures.get("dictreader")
    small = figures.get("csv_small")
    for key in CSV_KEYS:
        fig = figures.get(key)
        if fig is None:
            continue
        if parser is not None and parser.rate:
            fig.extra["ratio_to_dictreader"] = fig.rate / parser.rate
            if "median_rate" in fig.extra and "median_rate" in parser.extra:
                fig.extra["median_ratio_to_dictreader"] = (fig.extra["median_rate"]
                                                           / parser.extra["median_rate"])
        fig.extra["rss_over_idle_mb"] = fig.extra["peak_rss_mb"] - fig.extra["start_rss_mb"]
        runs = fig.extra.get("rss_over_idle_runs_mb")
        if runs:
            fig.extra["median_rss_over_idle_mb"] = statistics.median(runs)
    reference = _small_rss_over_idle(small)
    for key in CSV_KEYS[1:]:
        fig = figures.get(key)
        if fig is not None and reference:
            fig.extra["rss_over_idle_ratio_to_small"] = fig.extra.get(
                "median_rss_over_idle_mb", fig.extra["rss_over_idle_mb"]) / reference


def _small_rss_over_idle(small: Any) -> float | None:
    """What the larger runs' RSS over idle is compared with: the small run's, the median of its
    repeats when it ran several times (one run's varied by 0.6 MiB of 2.5-3.2 in one stack), as
    a larger run's is its repeats' median when it has repeats."""
    if small is None:
        return None
    value = small.extra.get("median_rss_over_idle_mb", small.extra["rss_over_idle_mb"])
    return float(value) if value > 0 else None


def report_lines(figures: dict[str, Any]) -> list[str]:
    """The CSV runs against the parser, Redis per pending item and RSS over idle, with goals."""
    annotate(figures)
    lines: list[str] = []
    parser = figures.get("dictreader")
    for key in CSV_KEYS:
        fig = figures.get(key)
        if fig is None:
            continue
        parts = [f"  {fig.count:>10,} rows: {fig.rate:,.0f} items/s"]
        if "ratio_to_dictreader" in fig.extra:
            assert parser is not None
            runs = len(fig.extra.get("rates", [])) or 1
            best = f"best of {runs} against best of {len(parser.extra.get('rates', [])) or 1}, " \
                if runs > 1 else ""
            parts.append(f"{fig.extra['ratio_to_dictreader']:.2f}x csv.DictReader "
                         f"({best}{parser.rate:,.0f} rows/s on one core; goal >= {GOAL_RATIO}x, "
                         f"moonshot {MOONSHOT_RATIO}x)")
            if "median_ratio_to_dictreader" in fig.extra:
                parts.append(f"medians {fig.extra['median_ratio_to_dictreader']:.2f}x")
        over = f"control RSS over idle {fig.extra['rss_over_idle_mb']:.1f} MiB"
        if "median_rss_over_idle_mb" in fig.extra:
            over += f" (median of {len(fig.extra['rss_over_idle_runs_mb'])} runs " \
                    f"{fig.extra['median_rss_over_idle_mb']:.1f})"
        parts.append(over)
        if "rss_over_idle_ratio_to_small" in fig.extra:
            parts.append(f"{fig.extra['rss_over_idle_ratio_to_small']:.2f}x the small run's "
                         f"(goal <= {GOAL_RSS_OVER_IDLE_RATIO}x)")
        lines.append("; ".join(parts))
    held = figures.get("pending_memory")
    if held is not None:
        lines.append(f"  Redis {held.extra['redis_bytes_per_pending_item']:,.0f} B per pending "
                     f"item (goal <= {GOAL_BYTES_PER_PENDING}): "
                     f"{held.extra['redis_growth_mb']:.1f} MiB for {held.count:,} items read but "
                     f"not dispatched ({held.name}, stopped then)")
    return (["\nCSV runs against the parser (same CSV, same sitting):"] + lines) if lines else []

"""``python -m bench`` (``make bench``): stepmap's throughput figures from one run.

1. group    a plain Celery ``group`` of no-op tasks on the same Redis and children workers
2. batch1   child executions/s of a Distributed Map with a Pass child, one item per child, with
            the Redis round trips and commands per child (counted by the server)
3. latency  100-item Pass Map Runs: StartExecution -> first child running, -> SUCCEEDED (p50)
4. csv      items/s over a CSV in S3 with MaxItemsPerBatch and a ResultWriter, and the peak RSS
            of the control worker's process tree at two dataset sizes
5. engine   the engine micro-benchmark (``bench.engine``, in a subprocess)
6. delay    group and batch1 again on a second stack whose every Redis round trip goes through
            a loopback proxy that adds ``--redis-delay-ms`` (1 ms): Redis on another machine
7. limits   rate limits and pools (``bench.limits``, on a stack of its own with --limits-workers
            children workers): the rate limiter's accuracy at --rate items/s, and batch-1
            children/s with a pool vs without (ratio, alternated in one sitting)

The control worker's idle memory (RSS and PSS of its process tree) is taken once the stack is
up and warm.

Examples::

    python -m bench                      # full sizes (10k group / 10k children / 1M rows)
    python -m bench --quick              # small sizes, about a minute
    python -m bench --only delay --redis-delay-ms 2   # Redis 2 ms away
    python -m bench --only batch1 --set celery.children_per_message=64
    python -m bench --only csv --profile /tmp/prof   # cProfile in every worker process

Settings reach every stack process: ``--set group.field=value`` or ``STEPMAP_*`` variables.
The stack is always stopped, also on Ctrl-C; a failed measurement is reported with where it
failed and the tail of the worker logs, and the others still run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import csvbase, latency, limits, maprun
from bench._stack import StackOptions, start_stack, tree_memory, worker_pids
from bench.maprun import Figure
from bench.proxy import ProxyProcess

SECTIONS = ("group", "batch1", "latency", "csv", "engine", "delay", "limits")
FULL = {"group": 10_000, "batch1": 10_000, "csv_small": 100_000, "csv": 1_000_000,
        "delay": 3_000, "rate_items": 100_000, "pool_children": 5_000}
QUICK = {"group": 2_000, "batch1": 2_000, "csv_small": 20_000, "csv": 100_000, "delay": 1_000,
         "rate_items": 30_000, "pool_children": 2_000}
_NOUN = {"tasks/s": "task", "children/s": "child", "items/s": "item"}
TARGETS = {"csv": (100_000, 250_000)}
#: Batch-1 children/s over the plain Celery group (issue 14).
BATCH1_TARGETS = {"EXPRESS": 6.0, "STANDARD": 4.0, "delay": 5.0}
#: p50 seconds from StartExecution to SUCCEEDED of a 100-item Pass Map Run (issue 14).
LATENCY_TARGETS = {"EXPRESS": 0.300, "STANDARD": 0.500, "first_child": 0.050}
IDLE_RSS_TARGET_MB = 150


def _parse_set(values: list[str]) -> dict[str, Any]:
    """``a.b=v`` strings into a nested overrides dict (values parsed as JSON when they are)."""
    out: dict[str, Any] = {}
    for item in values:
        path, _, raw = item.partition("=")
        if not path or not _:
            raise SystemExit(f"--set expects group.field=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (a minute or so)")
    p.add_argument("--only", action="append", choices=SECTIONS, help="run only these (repeatable)")
    p.add_argument("--workers", type=int, default=2, help="children worker processes (2)")
    p.add_argument("--concurrency", type=int, default=1, help="pool size per children worker (1)")
    p.add_argument("--control-concurrency", type=int, default=None,
                   help="control pool size (default: the settings' celery.control_concurrency, 1)")
    p.add_argument("--set", action="append", default=[], metavar="GROUP.FIELD=VALUE",
                   help="settings override, e.g. celery.children_per_message=64")
    p.add_argument("--celery-conf", type=json.loads, default={}, metavar="JSON",
                   help='Celery config applied to both worker apps, e.g. '
                        '\'{"worker_send_task_events": false}\'')
    p.add_argument("--group-size", type=int, help="no-op tasks in the Celery group")
    p.add_argument("--batch1-items", type=int, help="items (= children) of the batch-1 run")
    p.add_argument("--csv-rows", type=int, help="rows of the large CSV run")
    p.add_argument("--csv-small-rows", type=int, help="rows of the small CSV run (RSS compare)")
    p.add_argument("--csv-huge-rows", type=int, default=0,
                   help="rows of a third CSV run (e.g. 10000000; RSS over idle vs the small run)")
    p.add_argument("--batch-size", type=int, default=1000, help="MaxItemsPerBatch of the CSV run")
    p.add_argument("--csv-child", choices=("count", "pass"), default="count",
                   help="CSV child: Pass returning the batch size (count) or a bare Pass")
    p.add_argument("--no-standard", action="store_true", help="skip the STANDARD batch-1 run")
    p.add_argument("--repeat", type=int, default=1, help="repeat each Map Run, report the best")
    p.add_argument("--batch1-repeat", type=int, default=3,
                   help="runs of the plain Celery group and of each batch-1 Map Run (3): the "
                        "best of each is compared, the medians printed beside (a single group "
                        "ran at 519-869 tasks/s in one morning)")
    p.add_argument("--csv-repeat", type=int, default=3,
                   help="runs of csv.DictReader and of each CSV Map Run but --csv-huge-rows' "
                        "(3): the best of each is compared, the medians printed beside (this "
                        "2-core VM's speed drifts by a quarter from one run to the next)")
    p.add_argument("--latency-runs", type=int, default=7, help="100-item Map Runs per type (7)")
    p.add_argument("--redis-delay-ms", type=float, default=1.0,
                   help="delay the proxy of the delay section adds per round trip (1)")
    p.add_argument("--delay-items", type=int, help="group tasks and children of the delay section")
    p.add_argument("--engine-seconds", type=float, default=2.0)
    p.add_argument("--rate", type=float, default=10_000.0, help="items/s limit (10000)")
    p.add_argument("--rate-batch", type=int, default=50, help="MaxItemsPerBatch (50)")
    p.add_argument("--limits-workers", type=int, default=4,
                   help="children workers of the limits stack (4)")
    p.add_argument("--pool-rounds", type=int, default=2,
                   help="pools off/on alternations (2; the best of each is compared)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="run cProfile in every worker process, dump stats into DIR")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    return p.parse_args(argv)


class Report:
    """Collects figures and failures and prints them as one table."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}
        self.failures: list[tuple[str, str]] = []
        self.notes: list[str] = []
        #: Memory of the idle control worker (:func:`bench._stack.tree_memory`).
        self.idle: dict[str, Any] = {}
        #: The same for the API process and the children workers (main + pool, all workers).
        self.idle_others: dict[str, dict[str, Any]] = {}

    def fail(self, where: str, exc: BaseException, logs: str = "") -> None:
        text = f"{type(exc).__name__}: {exc}"
        self.failures.append((where, text))
        print(f"\n!! {where} FAILED: {text}", file=sys.stderr)
        if not isinstance(exc, maprun.BenchError):
            traceback.print_exception(exc, file=sys.stderr)
        if logs:
            print(logs, file=sys.stderr)

    def print(self) -> None:
        rows: list[tuple[str, str, str, str, str]] = []
        annotate_batch1(self.figures)
        for key, fig in self.figures.items():
            if key == "engine":
                continue
            ratio = ""
            if key.startswith("latency"):
                kind = "STANDARD" if key.endswith("standard") else "EXPRESS"
                first = fig.extra["p50_to_first_child_s"]
                rows.append((fig.name, "", "", f"{1000 * fig.seconds:,.0f} ms p50",
                             f"target <{1000 * LATENCY_TARGETS[kind]:.0f} ms; first child "
                             f"{1000 * first:.0f} ms (target "
                             f"<{1000 * LATENCY_TARGETS['first_child']:.0f} ms)"))
                continue
            if key == "rate":
                ratio = (f"measured {fig.extra['measured_rate']:,.0f}/s = "
                         f"{100 * fig.extra['accuracy']:+.1f}% of the limit (target +-5%)")
            elif key == "pools":
                ratio = f"pools on / off = {fig.extra['ratio']:.2f}"
            elif key.startswith("delay_batch1") and "ratio_to_group" in fig.extra:
                ratio = (f"{fig.extra['ratio_to_group']:.2f}x group through the same proxy "
                         f"(target >={BATCH1_TARGETS['delay']:.0f}x)")
            elif key.startswith("batch1") and "ratio_to_group" in fig.extra:
                kind = "STANDARD" if key.endswith("standard") else "EXPRESS"
                ratio = (f"{fig.extra['ratio_to_group']:.2f}x group"
                         + (", best against best" if "median_rate" in fig.extra else "")
                         + f" (target >={BATCH1_TARGETS[kind]:.0f}x)")
                if "median_ratio_to_group" in fig.extra:
                    ratio += f"; medians {fig.extra['median_ratio_to_group']:.2f}x"
            elif key.startswith("csv"):
                lo, hi = TARGETS["csv"]
                ratio = f"{fig.rate / lo:.2f}x target {lo:,} (stretch {hi:,})"
            elif key.endswith("group"):
                ratio = f"publish {fig.extra['publish_s']:.2f}s ({fig.extra['publish_rate']:,.0f}/s)"
            if "median_rate" in fig.extra:
                ratio += f"; median of {len(fig.extra['rates'])} {fig.extra['median_rate']:,.0f}"
            rows.append((fig.name, f"{fig.count:,}", f"{fig.seconds:.2f}",
                         f"{fig.rate:,.0f} {fig.unit}", ratio))
        small, large = self.figures.get("csv_small"), self.figures.get("csv")
        engine = self.figures.get("engine")
        if engine is not None:
            for label, value in engine.extra.items():
                unit = "items/s" if label.startswith("item selector") else "runs/s"
                rows.append((f"engine, {label}", "", "", f"{value:,.0f} {unit}", "target >=20,000"
                             if "off" in label else ""))
        heads = ("measurement", "count", "seconds", "rate", "ratio / note")
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
                  for i, h in enumerate(heads)]
        line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
        print("\n" + line + "\n" + "-" * len(line))
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        for key, fig in self.figures.items():
            phases = {k: v for k, v in fig.extra.items()
                      if k.endswith("_s") and k != "publish_s" and not k.startswith("p50_")}
            if phases:
                print(f"  {fig.name}: " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
            cpu = fig.extra.get("cpu")
            if cpu:
                busy = sum(cpu.values())
                mine = stack_cpu(fig)
                print(f"    CPU s ({busy:.2f} in {fig.seconds:.2f}s wall = {busy / fig.seconds:.2f} "
                      f"cores; the stack {mine:.2f} = {1e6 * mine / fig.count:.0f} us per "
                      f"{_NOUN.get(fig.unit, 'unit')}): "
                      + ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])))
            if "redis_round_trips_per" in fig.extra:
                noun = ("Map Run (with the bench's polling)" if "p50_to_succeeded_s" in fig.extra
                        else _NOUN.get(fig.unit, "unit"))
                print(f"    Redis per {noun}: {fig.extra['redis_round_trips_per']:.2f} round trips, "
                      f"{fig.extra['redis_commands_per']:.2f} commands (incl. those in Lua): "
                      + ", ".join(f"{k} {v}" for k, v in fig.extra["redis_commands_top"].items()))
            p50 = {k.removeprefix("p50_"): v for k, v in fig.extra.items() if k.startswith("p50_")}
            if p50:
                print(f"  {fig.name} (ms from StartExecution): "
                      + ", ".join(f"{k} {1000 * v:.0f}" for k, v in p50.items()))
        if small is not None or large is not None:
            print("\npeak RSS of the control worker tree (main + pool):")
            for run in (small, large):
                if run is not None:
                    how = ("each process's high-water mark" if run.extra.get("rss_exact")
                           else f"{run.extra['rss_samples']} samples")
                    print(f"  {run.count:>10,} rows: {run.extra['peak_rss_mb']:.1f} MiB "
                          f"(idle {run.extra['start_rss_mb']:.1f} MiB; {how})")
            if small is not None and large is not None:
                print(f"  ratio {large.extra['peak_rss_mb'] / small.extra['peak_rss_mb']:.2f} for "
                      f"{large.count / small.count:.0f}x the rows")
        for line in csvbase.report_lines(self.figures):
            print(line)
        if self.idle:
            print(f"\nidle control worker (main + pool), stack up and warm: RSS "
                  f"{self.idle['rss_mb']:.0f} MiB (target <={IDLE_RSS_TARGET_MB}), PSS "
                  f"{self.idle['pss_mb']:.0f} MiB; per process RSS/USS MiB: "
                  + ", ".join(f"{p['rss_mb']:.0f}/{p['uss_mb']:.0f}"
                              for p in self.idle["processes"]))
        for role, memory in self.idle_others.items():
            print(f"idle {role}, same moment: RSS {memory['rss_mb']:.0f} MiB, PSS "
                  f"{memory['pss_mb']:.0f} MiB; per process RSS/USS MiB: "
                  + ", ".join(f"{p['rss_mb']:.0f}/{p['uss_mb']:.0f}"
                              for p in memory["processes"]))
        for note in self.notes:
            print(note)
        if self.failures:
            print("\nFAILED:")
            for where, text in self.failures:
                print(f"  {where}: {text}")

    def to_json(self) -> dict[str, Any]:
        csvbase.annotate(self.figures)
        annotate_batch1(self.figures)
        return {
            "figures": {k: {"name": f.name, "count": f.count, "seconds": f.seconds,
                            "rate": f.rate, "unit": f.unit, "extra": f.extra}
                        for k, f in self.figures.items()},
            "failures": self.failures, "notes": self.notes, "idle_control_worker": self.idle,
            "idle_others": self.idle_others,
        }


def stack_cpu(fig: Figure) -> float:
    """CPU seconds the stack's processes used during ``fig`` (not the machine's other load)."""
    cpu: dict[str, float] = fig.extra.get("cpu") or {}
    return float(sum(v for k, v in cpu.items() if not k.startswith("OTHER")))


def run_engine(seconds: float, timeout: float) -> Figure:
    """``python -m bench.engine`` in a subprocess; its printed runs/s."""
    done = subprocess.run([sys.executable, "-m", "bench.engine", "--seconds", str(seconds)],
                          capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parent.parent, check=False)
    if done.returncode != 0:
        raise maprun.BenchError(f"bench.engine exited {done.returncode}: {done.stderr[-2000:]}")
    rates: dict[str, float] = {}
    for line in done.stdout.splitlines():
        m = re.match(r"\s*(.+?):\s*([\d,.]+)\s*(?:runs|items)/s", line)
        if m:
            rates[m.group(1)] = float(m.group(2).replace(",", ""))
    if not rates:
        raise maprun.BenchError(f"bench.engine printed no figure: {done.stdout[-500:]}")
    return Figure("engine", 0, 1.0, "runs/s", rates)


def _logs(stack: Any) -> str:
    if stack is None:
        return ""
    parts = []
    dead = [proc.name for proc in stack.dead()]
    if dead:
        parts.append(f"--- processes that exited on their own: {', '.join(dead)}")
    for name, proc in stack.processes.items():
        if proc.kind in ("control", "children", "api"):
            tail = proc.log_tail(12).strip()
            if tail:
                parts.append(f"--- {name} log (tail) ---\n{tail}")
    return "\n".join(parts)


def _best(measure: Any, repeat: int) -> Figure:
    """The fastest of ``repeat`` runs; every run's rate is kept in ``extra["rates"]``."""
    best: Figure | None = None
    rates: list[float] = []
    over_idle: list[float] = []
    for _ in range(max(1, repeat)):
        fig = measure()
        rates.append(fig.rate)
        if "peak_rss_mb" in fig.extra:
            over_idle.append(fig.extra["peak_rss_mb"] - fig.extra["start_rss_mb"])
        if best is None or fig.rate > best.rate:
            best = fig
    assert best is not None
    if len(rates) > 1:
        best.extra["rates"] = rates
        best.extra["median_rate"] = statistics.median(rates)
        if over_idle:
            best.extra["rss_over_idle_runs_mb"] = over_idle
    return best


def _run_limits(args: argparse.Namespace, sizes: dict[str, int], options: StackOptions,
                report: Report) -> None:
    """The limits section on a stack of its own (--limits-workers children workers)."""
    own = StackOptions(workers=args.limits_workers, concurrency=options.concurrency,
                       control_concurrency=options.control_concurrency,
                       overrides=options.overrides, celery_conf=options.celery_conf)
    print(f"limits stack: {own.describe()}", flush=True)
    stack = None
    where = "limits: starting the stack"
    try:
        stack = start_stack(own)
        maprun.measure_batch1(stack, 100, "EXPRESS", timeout=120)
        where = "rate"
        print(f"running rate ({sizes['rate_items']:,} items at {args.rate:,.0f}/s) ...",
              flush=True)
        report.figures["rate"] = limits.measure_rate(stack, sizes["rate_items"], args.rate,
                                                     args.rate_batch, args.timeout)
        where = "pools"
        print("running pools (on vs off) ...", flush=True)
        report.figures["pools"] = limits.measure_pools_overhead(
            stack, sizes["pool_children"], args.pool_rounds, args.timeout)
    except KeyboardInterrupt:
        report.fail(where, KeyboardInterrupt("interrupted"))
    except Exception as exc:  # noqa: BLE001 - report and go on
        report.fail(where, exc, _logs(stack))
    finally:
        if stack is not None:
            stack.stop()


def _run_steps(stack: Any, steps: list[tuple[str, Any]], report: Report) -> None:
    """Run each measurement; a failed one is reported and the others still run."""
    for key, step in steps:
        print(f"running {key} ...", flush=True)
        try:
            fig = step()
        except Exception as exc:  # noqa: BLE001 - report and go on with the next figure
            report.fail(key, exc, _logs(stack))
            continue
        report.figures[key] = fig
        print(f"  {fig.name}: {fig.count:,} in {fig.seconds:.2f}s = "
              f"{fig.rate:,.0f} {fig.unit}", flush=True)


def _batch1_steps(stack: Any, args: argparse.Namespace, prefix: str, size: int,
                  group_size: int, repeat: int = 1) -> list[tuple[str, Any]]:
    """The plain group and the batch-1 Map Runs, each the best of ``repeat`` runs."""
    runs = max(repeat, args.repeat)
    steps: list[tuple[str, Any]] = [
        (f"{prefix}group", lambda: _best(lambda: maprun.measure_group(
            stack, group_size, args.timeout), runs)),
        (f"{prefix}batch1", lambda: _best(lambda: maprun.measure_batch1(
            stack, size, "EXPRESS", args.timeout), runs))]
    if not args.no_standard:
        steps.append((f"{prefix}batch1_standard", lambda: _best(lambda: maprun.measure_batch1(
            stack, size, "STANDARD", args.timeout), runs)))
    return steps


def annotate_batch1(figures: dict[str, Figure]) -> None:
    """Put the batch-1 runs' ratios to the group into their ``extra`` (best against best, and
    median against median when both ran several times), for the table and the JSON output."""
    for prefix in ("", "delay_"):
        group = figures.get(f"{prefix}group")
        for kind in ("batch1", "batch1_standard"):
            fig = figures.get(f"{prefix}{kind}")
            if group is None or fig is None or not group.rate:
                continue
            fig.extra["ratio_to_group"] = fig.rate / group.rate
            if "median_rate" in fig.extra and "median_rate" in group.extra:
                fig.extra["median_ratio_to_group"] = (fig.extra["median_rate"]
                                                      / group.extra["median_rate"])


def run_delayed(options: StackOptions, args: argparse.Namespace, size: int,
                report: Report) -> None:
    """The group and batch-1 runs on a stack whose Redis is behind the delaying proxy."""
    from orchestrator.devstack.servers import start_redis

    redis = start_redis(appendonly=True)
    proxy = None
    stack = None
    try:
        port = int(redis.url.rsplit(":", 1)[1].split("/")[0])
        assert redis.workdir is not None
        proxy = ProxyProcess(port, args.redis_delay_ms, redis.workdir)
        added = _added_rtt_ms(redis.url, proxy.url)
        report.notes.append(f"delay section: Redis through bench.proxy, +{args.redis_delay_ms:g} "
                            f"ms per request; measured PING round trip +{added:.2f} ms")
        print(report.notes[-1], flush=True)
        delayed = StackOptions(**{**options.__dict__, "redis_url": proxy.url})
        stack = start_stack(delayed)
        maprun.measure_batch1(stack, 100, "EXPRESS", timeout=120)
        _run_steps(stack, _batch1_steps(stack, args, "delay_", size, size), report)
    except Exception as exc:  # noqa: BLE001 - the delayed stack failed
        report.fail("delay", exc, _logs(stack))
    finally:
        if stack is not None:
            stack.stop()
        if proxy is not None:
            proxy.stop()
        redis.stop(15)


def _added_rtt_ms(direct: str, proxied: str, pings: int = 200) -> float:
    """Milliseconds the proxy adds to a PING round trip (median of ``pings``)."""
    import redis

    def median_ms(url: str) -> float:
        client = redis.Redis.from_url(url)
        try:
            client.ping()
            times = []
            for _ in range(pings):
                t = time.perf_counter()
                client.ping()
                times.append(time.perf_counter() - t)
            return 1000 * statistics.median(times)
        finally:
            client.close()

    return median_ms(proxied) - median_ms(direct)


def main(argv: list[str] | None = None) -> int:
    """Run the selected measurements on one stack and print the table; exit code 1 on failure."""
    args = parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key, value in (("group", args.group_size), ("batch1", args.batch1_items),
                       ("csv", args.csv_rows), ("csv_small", args.csv_small_rows),
                       ("delay", args.delay_items)):
        if value:
            sizes[key] = value
    only = set(args.only or SECTIONS)
    options = StackOptions(workers=args.workers, concurrency=args.concurrency,
                           control_concurrency=args.control_concurrency,
                           overrides=_parse_set(args.set), profile_dir=args.profile,
                           celery_conf=args.celery_conf)
    report = Report()
    print(f"stack: {options.describe()}")
    print(f"sizes: {sizes}" + (f"; repeat {args.repeat}" if args.repeat > 1 else ""))
    stack = None
    where = "setup"
    t0 = time.perf_counter()
    try:
        if only & {"group", "batch1", "latency", "csv"}:
            where = "starting the local stack"
            stack = start_stack(options)
            print(f"stack up in {time.perf_counter() - t0:.1f}s: API {stack.api_url}")
            where = "warm-up Map Run"
            maprun.measure_batch1(stack, 100, "EXPRESS", timeout=120)
            time.sleep(1.0)  # let the warm-up's last messages settle before the idle figure
            report.idle = tree_memory(worker_pids(stack, "control"))
            api_pid = stack.processes["api"].pid
            report.idle_others = {
                "API process": tree_memory([api_pid] if api_pid is not None else []),
                "children workers (main + pool each)": tree_memory(worker_pids(stack, "children")),
            }
            steps: list[tuple[str, Any]] = []
            if "batch1" in only or "group" in only:
                steps += [step for step in _batch1_steps(stack, args, "", sizes["batch1"],
                                                         sizes["group"], args.batch1_repeat)
                          if step[0] == "group" and "group" in only
                          or step[0] != "group" and "batch1" in only]
            if "latency" in only:
                for kind in ("EXPRESS", "STANDARD"):
                    steps.append((f"latency_{kind.lower()}",
                                  lambda kind=kind: latency.measure_latency(
                                      stack, kind, args.latency_runs)))
            if "csv" in only:
                steps.append(("dictreader", lambda: csvbase.measure_parser(sizes["csv"],
                                                                           args.csv_repeat)))
                keys: tuple[str, ...] = ("csv_small", "csv")
                if args.csv_huge_rows:
                    sizes["csv_huge"] = args.csv_huge_rows
                    keys += ("csv_huge",)
                for key in keys:
                    rows = sizes[key]
                    runs = args.repeat if key == "csv_huge" else max(args.repeat, args.csv_repeat)
                    steps.append((key, lambda rows=rows, runs=runs: _best(
                        lambda: maprun.measure_csv(stack, rows, args.batch_size, args.csv_child,
                                                   args.timeout), runs)))
                steps.append(("pending_memory", lambda: csvbase.measure_pending_memory(
                    stack, sizes["csv"], args.batch_size, args.timeout)))
            where = "measurements"
            _run_steps(stack, steps, report)
    except KeyboardInterrupt:
        report.fail(where, KeyboardInterrupt("interrupted"))
    except Exception as exc:  # noqa: BLE001 - the stack or the warm-up failed
        report.fail(where, exc, _logs(stack))
    finally:
        if stack is not None:
            print("stopping the stack ...", flush=True)
            stack.stop()
    if "delay" in only:
        try:
            run_delayed(options, args, sizes["delay"], report)
        except KeyboardInterrupt:
            report.fail("delay", KeyboardInterrupt("interrupted"))
    if "limits" in only:
        _run_limits(args, sizes, options, report)
    if "engine" in only:
        try:
            report.figures["engine"] = run_engine(args.engine_seconds, timeout=120)
        except Exception as exc:  # noqa: BLE001
            report.fail("engine", exc)
    report.print()
    if args.profile:
        print(f"\nprofiles in {args.profile} (python -m pstats FILE; bench.profiles summarises)")
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2, default=str))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark's local stack: a :class:`LocalStack`, SDK clients, and an RSS sampler.

The stack is the one ``stepmap dev`` and the e2e tests run (real redis-server, moto's S3
server, the API, one control worker and N children workers), so the figures measure the
processes a user runs. Profiling swaps the workers' Celery apps for the wrappers in
:mod:`bench._profiled`, which run cProfile in every pool process.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import boto3
import psutil

from orchestrator.devstack.stack import LocalStack

CREDS = {"aws_access_key_id": "stepmap", "aws_secret_access_key": "stepmap",
         "region_name": "us-east-1"}
ROLE = "arn:aws:iam::000000000000:role/stepmap"
BUCKET = "stepmap"


@dataclass
class StackOptions:
    """How the benchmark's stack is started."""

    workers: int = 2
    concurrency: int = 1
    #: None: the settings' ``celery.control_concurrency``.
    control_concurrency: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    profile_dir: Path | None = None
    celery_conf: dict[str, Any] = field(default_factory=dict)
    loglevel: str = "WARNING"
    #: Redis the stack uses instead of starting its own (the delaying proxy's URL).
    redis_url: str | None = None

    def describe(self) -> str:
        """One line for the report."""
        extra = f", overrides {self.overrides}" if self.overrides else ""
        prof = ", cProfile ON" if self.profile_dir else ""
        conf = f", worker Celery conf {self.celery_conf}" if self.celery_conf else ""
        return (f"{self.workers} children workers x concurrency {self.concurrency}, control "
                f"concurrency {self.control_concurrency or 'of the settings'}{extra}{conf}{prof}")


def start_stack(options: StackOptions) -> LocalStack:
    """Start a :class:`LocalStack` for ``options`` (the caller stops it)."""
    apps: dict[str, str] = {}
    env: dict[str, str] = {}
    if options.profile_dir is not None:
        options.profile_dir.mkdir(parents=True, exist_ok=True)
        env["BENCH_PROFILE_DIR"] = str(options.profile_dir.resolve())
    if options.celery_conf:
        env["BENCH_CELERY_CONF"] = json.dumps(options.celery_conf)
    if env:
        apps = {"control": "bench._profiled:control_app", "children": "bench._profiled:children_app"}
    overrides = dict(options.overrides)
    if options.redis_url is not None:
        overrides["redis"] = {**overrides.get("redis", {}), "url": options.redis_url}
    stack = LocalStack(
        overrides, redis=options.redis_url is None, workers=options.workers,
        concurrency=options.concurrency, control_concurrency=options.control_concurrency,
        flower=False, apps=apps, worker_env=env, loglevel=options.loglevel,
        startup_timeout=90.0, stop_timeout=15.0, bucket=BUCKET,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return stack.start()


def clients(stack: LocalStack) -> tuple[Any, Any]:
    """(stepfunctions, s3) boto3 clients pointed at the stack."""
    from botocore.config import Config

    config = Config(retries={"max_attempts": 2}, read_timeout=120, connect_timeout=10)
    return (boto3.client("stepfunctions", endpoint_url=stack.api_url, config=config, **CREDS),
            boto3.client("s3", endpoint_url=stack.s3_url, config=config, **CREDS))


def worker_pids(stack: LocalStack, kind: str) -> list[int]:
    """Main pids of the stack's workers of ``kind`` (``control`` or ``children``)."""
    pids = [stack.processes[name].pid for name in stack.worker_names(kind)]  # type: ignore[arg-type]
    return [pid for pid in pids if pid is not None]


def tree_processes(roots: Iterable[int]) -> list[psutil.Process]:
    """The processes ``roots`` and all their descendants (those that still exist)."""
    procs: list[psutil.Process] = []
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    return procs


class RssSampler:
    """The peak of the summed RSS of process trees while it is entered.

    Where Linux lets it reset each process's RSS high-water mark (``/proc/PID/clear_refs``,
    written with ``5``), the peak is exact: the sum of each process's ``VmHWM`` at the exit
    (each process's own peak; their sum bounds the peak of the sum from above). A thread
    samples every ``interval`` seconds as well: the figure where the marks cannot be reset
    (then a peak shorter than the interval is missed), and ``samples``.
    """

    def __init__(self, roots: Iterable[int], interval: float = 0.05) -> None:
        self.roots = list(roots)
        self.interval = interval
        self.peak = 0
        self.first = 0
        self.samples = 0
        #: Whether :attr:`peak` is the exact one (the marks of every process were reset).
        self.exact = False
        self._marked: list[psutil.Process] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    #: How often the process trees are walked again (psutil finds a process's children by
    #: reading every process of the machine: every 50 ms that cost the measured stack ~0.1
    #: CPU-s per 2 s run); a process that went away makes the next sample walk them at once.
    TREE_SECONDS = 1.0

    def _loop(self) -> None:
        procs: list[psutil.Process] = []
        walked = float("-inf")
        while not self._stop.is_set():
            if time.monotonic() - walked > self.TREE_SECONDS:
                procs, walked = tree_processes(self.roots), time.monotonic()
            rss = 0
            for proc in procs:
                try:
                    rss += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    walked = float("-inf")
            if self.samples == 0:
                self.first = rss
            self.peak = max(self.peak, rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def _reset_marks(self) -> None:
        procs = tree_processes(self.roots)
        try:
            for proc in procs:
                Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
        except OSError:
            return
        self._marked = procs

    def _exact_peak(self) -> int | None:
        """The sum of the marked processes' ``VmHWM`` (None: one went away, or no marks)."""
        total = 0
        try:
            for proc in self._marked:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                total += next(int(line.split()[1]) * 1024 for line in status.splitlines()
                              if line.startswith("VmHWM:"))
        except (OSError, StopIteration, ValueError):
            return None
        alive = {proc.pid for proc in tree_processes(self.roots)}
        return total if self._marked and alive == {p.pid for p in self._marked} else None

    def __enter__(self) -> Self:
        self._reset_marks()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        exact = self._exact_peak()
        if exact is not None:
            self.peak, self.exact = exact, True


def redis_client(stack: LocalStack) -> Any:
    """A Redis client on the stack's server."""
    import redis

    return redis.Redis.from_url(stack.redis_url)


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``STEPMAP_*`` variables set by the user (they reach every stack process)."""
    environ = environ if environ is not None else os.environ
    return {k: v for k, v in environ.items() if k.startswith("STEPMAP_")}


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def component_pids(stack: LocalStack) -> dict[str, list[int]]:
    """Root pids by component: ``control``, ``children`` (all workers), ``api``, ``redis``, ``s3``."""
    out: dict[str, list[int]] = {}
    for name, proc in stack.processes.items():
        if proc.pid is not None:
            out.setdefault("children" if proc.kind == "children" else name, []).append(proc.pid)
    for name, server in stack.servers.items():
        out.setdefault(name, []).append(server.process.pid)
    return out


def _split_main_pool(pid: int) -> dict[str, float]:
    try:
        root = psutil.Process(pid)
        kids = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    out = {"main": 0.0, "pool": 0.0}
    for role, proc in [("main", root), *(("pool", k) for k in kids)]:
        try:
            t = proc.cpu_times()
            out[role] += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return out


def cpu_seconds(stack: LocalStack) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each component, workers split main/pool.

    Celery's main process (the consumer: reads the broker, hands tasks to the pool) and the
    pool processes (run the tasks) are reported apart, e.g. ``control.main``, ``children.pool``.
    """
    out: dict[str, float] = {}
    for component, pids in component_pids(stack).items():
        for pid in pids:
            if component in ("control", "children"):
                for role, value in _split_main_pool(pid).items():
                    key = f"{component}.{role}"
                    out[key] = out.get(key, 0.0) + value
            else:
                out[component] = out.get(component, 0.0) + sum(_split_main_pool(pid).values())
    return out


class CpuMeter:
    """CPU seconds used by each component between ``__enter__`` and ``__exit__``."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.used: dict[str, float] = {}
        self._before: dict[str, float] = {}

    def __enter__(self) -> Self:
        self._before = cpu_seconds(self.stack)
        self._before["bench"] = _own_cpu()
        self._system = _system_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        after = cpu_seconds(self.stack)
        after["bench"] = _own_cpu()
        self.used = {k: after[k] - self._before.get(k, 0.0) for k in after}
        # Everything else on the machine (other users' tests, ...): the figures' noise.
        self.used["OTHER (not the stack)"] = max(
            0.0, _system_busy() - self._system - sum(self.used.values()))


def _own_cpu() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


def _system_busy() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.system) + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(
        t, "softirq", 0.0)


def tree_memory(roots: Iterable[int]) -> dict[str, Any]:
    """RSS and PSS (shared pages split between the processes sharing them) of process trees.

    A prefork pool's processes share their parent's pages, so the summed RSS counts those pages
    once per process; PSS counts them once in all.
    """
    rss = pss = 0
    processes: list[dict[str, Any]] = []
    for proc in tree_processes(roots):
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        processes.append({"pid": proc.pid, "rss_mb": round(info.rss / 2**20, 1),
                          "uss_mb": round(getattr(info, "uss", info.rss) / 2**20, 1)})
    return {"rss_mb": rss / 2**20, "pss_mb": pss / 2**20, "processes": processes}

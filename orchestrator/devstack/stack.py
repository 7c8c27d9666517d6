"""The embedded local stack: Redis, S3, the API, a control worker, children workers and Flower.

``stepmap dev``, the demo and the e2e tests all run stepmap through :class:`LocalStack`, so the
processes a user starts locally are the ones CI tests::

    with LocalStack({"limits": {"segment_size": 8}}, workers=2) as stack:
        client = boto3.client("stepfunctions", endpoint_url=stack.api_url, ...)
        stack.kill_worker("children-1")          # SIGKILL the whole process group
        stack.restart_worker("control")          # graceful stop, start again, wait until ready

Everything binds 127.0.0.1 only. Each process leads its own process group and logs to a file in
the stack's work folder; a component that fails to start raises :class:`StackError` naming it
with the tail of its log, after every process started so far has been stopped.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.devstack import commands
from orchestrator.devstack._workers import WorkerControl
from orchestrator.devstack.commands import WorkerKind
from orchestrator.devstack.process import (
    LOOPBACK,
    ManagedProcess,
    StackError,
    http_check,
    port_is_free,
    signal_group,
    wait_ready,
)
from orchestrator.devstack.servers import LocalServer, ServerError, free_port, start_redis, start_s3
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys

__all__ = ["LocalStack", "StackError"]

PORT_NAMES = ("api", "flower", "redis", "s3")


class LocalStack(WorkerControl):
    """Every stepmap process on loopback, started together and stopped together.

    Args:
        settings_overrides: Nested settings to apply, e.g. ``{"limits": {"segment_size": 4}}``.
            ``api.auth_enabled`` defaults to False in the stack unless given here.
        base_settings: Settings the overrides apply to (default: ``Settings()``, the environment).
        workers: Children worker processes to start.
        concurrency: Pool size of each children worker.
        control_concurrency: Pool size of the control worker (``celery.control_concurrency``
            of the settings when None).
        api: Start the API (uvicorn, via ``stepmap api``).
        control: Start the control worker.
        flower: Start Flower (no auth unless ``flower_basic_auth``: it binds loopback only).
        redis: Start a Redis server; when False, ``redis.url`` of the settings is used as is.
        s3: Start moto's S3 server; when False, ``s3.endpoint_url`` of the settings is used.
        bucket: Bucket created at start (None: none).
        ports: Fixed ports by component (``api``, ``flower``, ``redis``, ``s3``); others are free
            ports picked at start.
        worker_env: Extra environment of the workers (e.g. ``PYTHONPATH`` for test handlers).
        env: Extra environment of every process.
        workdir: Folder for logs and server data (default: a temporary one, removed at stop).
        cwd: Working directory of the processes (default: the current one), so that
            ``python -m`` and ``-A`` find project and test modules.
        loglevel: Log level of the API and the workers.
        startup_timeout: Seconds to wait for the components to be ready.
        stop_timeout: Seconds between SIGTERM and SIGKILL at stop.
        flower_basic_auth: ``user:password`` for Flower.
        apps: Replace import paths by component: ``api`` (app factory), ``control``,
            ``children`` (Celery apps; Flower uses ``children``).
        pool: Celery pool of the workers (prefork when None).
    """

    def __init__(
        self,
        settings_overrides: Mapping[str, Any] | None = None,
        *,
        base_settings: Settings | None = None,
        workers: int = 1,
        concurrency: int = 2,
        control_concurrency: int | None = None,
        api: bool = True,
        control: bool = True,
        flower: bool = False,
        redis: bool = True,
        s3: bool = True,
        bucket: str | None = "stepmap",
        ports: Mapping[str, int] | None = None,
        worker_env: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        cwd: Path | None = None,
        loglevel: str = "INFO",
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        flower_basic_auth: str | None = None,
        apps: Mapping[str, str] | None = None,
        pool: str | None = None,
    ) -> None:
        unknown = set(ports or {}) - set(PORT_NAMES)
        if unknown:
            raise ValueError(f"unknown port names {sorted(unknown)}; expected {PORT_NAMES}")
        self._overrides = dict(settings_overrides or {})
        self._base = base_settings
        self._workers, self._concurrency = workers, concurrency
        self._control_concurrency = control_concurrency
        self._want = {"api": api, "control": control, "flower": flower, "redis": redis, "s3": s3}
        self.bucket, self._ports = bucket, dict(ports or {})
        self._worker_env, self._env = dict(worker_env or {}), dict(env or {})
        self._owns_workdir = workdir is None
        self._workdir_arg, self._cwd = workdir, cwd or Path.cwd()
        self._loglevel, self._pool = loglevel, pool
        self._startup_timeout, self._stop_timeout = startup_timeout, stop_timeout
        self._flower_auth = flower_basic_auth
        self._apps = {
            "api": commands.API_FACTORY,
            "control": commands.CONTROL_APP,
            "children": commands.CHILDREN_APP,
            **(apps or {}),
        }
        self.workdir: Path | None = None
        self.settings: Settings | None = None
        self.processes: dict[str, ManagedProcess] = {}
        self.servers: dict[str, LocalServer] = {}
        self.urls: dict[str, str] = {}
        self._stopped_on_purpose: set[str] = set()
        self._redis_client: Any = None

    # -- URLs ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Base URL of the API (``http://127.0.0.1:PORT``)."""
        return self.urls["api"]

    @property
    def redis_url(self) -> str:
        """URL of the Redis server (store and broker)."""
        return self.urls["redis"]

    @property
    def s3_endpoint_url(self) -> str:
        """Endpoint URL of the S3-compatible server."""
        return self.urls["s3"]

    @property
    def s3_url(self) -> str:
        """Alias of :attr:`s3_endpoint_url`."""
        return self.urls["s3"]

    @property
    def flower_url(self) -> str:
        """Base URL of Flower."""
        return self.urls["flower"]

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Start every component and wait until each is ready.

        Raises:
            StackError: a component failed to start; everything started was stopped.
        """
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.workdir = self._workdir_arg or Path(tempfile.mkdtemp(prefix="stepmap-dev-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name, port in self._ports.items():
            if port and self._want[name] and not port_is_free(port):
                raise StackError(f"{name}: port {port} on {LOOPBACK} is already in use")
        base = self._base if self._base is not None else Settings()
        overrides = _deep_copy(self._overrides)
        if "auth_enabled" not in overrides.get("api", {}):
            overrides.setdefault("api", {})["auth_enabled"] = False
        if self._want["redis"]:
            # Append-only persistence: a restarted Redis (restart_redis, or `stepmap dev
            # --data-dir` started again) comes back with every record and queued message.
            server = self._start_server("redis", start_redis, appendonly=True)
            overrides.setdefault("redis", {}).update(url=server.url, broker_url=None)
        if self._want["s3"]:
            server = self._start_server("s3", start_s3)
            overrides.setdefault("s3", {})["endpoint_url"] = server.url
        self.settings = commands.merge_settings(base, overrides)
        self.urls["redis"] = self.settings.redis.url
        if self.settings.s3.endpoint_url:
            self.urls["s3"] = self.settings.s3.endpoint_url
        if self.bucket and "s3" in self.urls:
            self._create_bucket(self.bucket)

        pending: dict[ManagedProcess, Callable[[], bool]] = {}
        if self._want["api"]:
            proc = self._spawn_api()
            pending[proc] = http_check(f"{proc.url}/healthz")
        if self._want["control"]:
            proc = self._spawn_worker("control", "control", self._control_concurrency, {})
            pending[proc] = self._ready_check(proc)
        for _ in range(self._workers):
            proc = self._spawn_worker(self._next_child_name(), "children", self._concurrency, {})
            pending[proc] = self._ready_check(proc)
        if self._want["flower"]:
            proc = self._spawn_flower()
            pending[proc] = http_check(f"{proc.url}/healthcheck")
        wait_ready(pending, self._startup_timeout)

    def stop(self) -> None:
        """Stop every process the stack started (SIGTERM, then SIGKILL), then the servers.

        Idempotent, and safe after a failed start. Removes the work folder if the stack made it.
        """
        atexit.unregister(self.stop)
        self._stop_processes(list(self.processes.values()))
        for name in ("s3", "redis"):
            server = self.servers.pop(name, None)
            if server is not None:
                server.stop(self._stop_timeout)
        if self._redis_client is not None:
            self._redis_client.close()
            self._redis_client = None
        if self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def restart_redis(self, *, down_seconds: float = 0.0) -> None:
        """Stop the stack's Redis (SIGTERM: it flushes its append-only file) and start it again.

        Same port and data folder, so every process reconnects to the same data; the workers
        must ride through the outage (docs/decisions.md, "Redis restarts").
        """
        server = self.servers.get("redis")
        if server is None or self.workdir is None:
            raise StackError("restart_redis: this stack did not start Redis")
        port = int(server.url.rsplit(":", 1)[1].split("/", 1)[0])
        server.stop(self._stop_timeout)
        if down_seconds > 0:
            time.sleep(down_seconds)
        self.servers.pop("redis")
        self._ports["redis"] = port
        self._start_server("redis", start_redis, appendonly=True)

    def restart_api(self, *, kill: bool = True, wait: bool = True) -> None:
        """Stop the API (SIGKILL by default: a crash) and start it again on the same port."""
        proc = self.processes.get("api")
        if proc is None:
            raise StackError("restart_api: this stack did not start the API")
        self._stopped_on_purpose.add("api")
        if kill:
            proc.signal(signal.SIGKILL)
            if proc.process is not None:
                proc.process.wait(self._stop_timeout)
        else:
            proc.stop(self._stop_timeout)
        self._ports["api"] = int(self.urls["api"].rsplit(":", 1)[1])
        new = self._spawn_api()
        if wait:
            wait_ready({new: http_check(f"{new.url}/healthz")}, self._startup_timeout)

    # -- internals --------------------------------------------------------------------------

    def _port(self, name: str) -> int:
        return self._ports.get(name) or free_port(LOOPBACK)

    def _start_server(self, name: str, start: Callable[..., LocalServer], **options: Any) -> LocalServer:
        assert self.workdir is not None
        try:
            server = start(self._port(name), workdir=self.workdir / name, **options)
        except ServerError as exc:
            raise StackError(f"{name} failed to start: {exc}") from exc
        self.servers[name] = server
        return server

    def _create_bucket(self, bucket: str) -> None:
        import boto3

        assert self.settings is not None
        s3 = self.settings.s3
        client = boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=s3.access_key_id.get_secret_value(),
            aws_secret_access_key=s3.secret_access_key.get_secret_value(),
        )
        try:
            existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            if bucket not in existing:
                client.create_bucket(Bucket=bucket)
        except Exception as exc:
            raise StackError(f"s3: could not create bucket {bucket!r}: {exc}") from exc

    def _process_env(self, extra: Mapping[str, str]) -> dict[str, str]:
        assert self.settings is not None
        return commands.process_env(os.environ, self.settings, {**self._env, **extra})

    def _new_process(
        self, name: str, kind: str, argv: list[str], extra_env: Mapping[str, str], url: str | None
    ) -> ManagedProcess:
        assert self.workdir is not None
        proc = ManagedProcess(
            name=name, kind=kind, argv=argv, env=self._process_env(extra_env),
            log_path=self.workdir / f"{name}.log", cwd=self._cwd, url=url,
            extra_env=dict(extra_env),
        )
        self.processes[name] = proc
        self._stopped_on_purpose.discard(name)
        proc.start()
        return proc

    def _spawn_api(self) -> ManagedProcess:
        port = self._port("api")
        url = f"http://{LOOPBACK}:{port}"
        argv = [
            sys.executable, "-m", "orchestrator.cli", "api", "--host", LOOPBACK,
            "--port", str(port), "--log-level", self._loglevel.lower(),
            "--factory", self._apps["api"],
        ]
        self.urls["api"] = url
        return self._new_process("api", "api", argv, {}, url)

    def _spawn_flower(self) -> ManagedProcess:
        port = self._port("flower")
        url = f"http://{LOOPBACK}:{port}"
        args = commands.flower_args(host=LOOPBACK, port=port, app=self._apps["children"])
        self.urls["flower"] = url
        return self._new_process("flower", "flower", commands.python_celery(args),
                                 commands.flower_env(self._flower_auth), url)

    def _spawn_worker(
        self, name: str, kind: WorkerKind, concurrency: int | None, extra: Mapping[str, str]
    ) -> ManagedProcess:
        assert self.settings is not None
        ready_key = Keys(self.settings.redis.key_prefix).worker_ready(name, uuid.uuid4().hex)
        args = commands.celery_worker_args(
            kind, self.settings, app=self._apps[kind], name=name, concurrency=concurrency,
            loglevel=self._loglevel, pool=self._pool, heartbeat=self._want["flower"],
        )
        argv = [
            sys.executable, "-m", "orchestrator.devstack._celery_main",
            self.settings.redis.url, ready_key, "--", *args,
        ]
        proc = self._new_process(name, kind, argv, {**self._worker_env, **extra}, None)
        proc.ready_key, proc.concurrency = ready_key, concurrency
        return proc

    def _ready_check(self, proc: ManagedProcess) -> Callable[[], bool]:
        if self._redis_client is None:
            from orchestrator.store.readiness import ReadinessMarks

            assert self.settings is not None
            self._redis_client = ReadinessMarks.from_url(self.settings.redis.url,
                                                         socket_timeout=2)
        marks = self._redis_client

        def check() -> bool:
            key = proc.ready_key
            return key is not None and marks.pid(key) == str(proc.pid)

        return check

    def _stop_processes(self, procs: Iterable[ManagedProcess]) -> None:
        # SIGTERM to every group at once so that they shut down in parallel (Celery's warm
        # shutdown finishes running tasks); one shared deadline, then SIGKILL what is left.
        procs = list(procs)
        for proc in procs:
            if proc.alive() and proc.pid is not None:
                signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        for proc in procs:
            if proc.process is not None and proc.alive():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.process.wait(max(0.0, deadline - time.monotonic()))
            proc.stop(timeout=1.0)

def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}

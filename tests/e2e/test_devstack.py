"""The embedded local stack: ``stepmap dev`` as a real process, and LocalStack's process control.

``stepmap dev`` runs the real API and workers when they are importable. The LocalStack tests use
small stand-in apps (a FastAPI factory with /healthz and a bare Celery app) written to a temporary
folder: they test starting, killing, restarting and stopping processes, not the engine.
"""

from __future__ import annotations

import importlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import psutil
import pytest
import redis

from orchestrator.devstack.process import StackError
from orchestrator.devstack.servers import free_port
from orchestrator.devstack.stack import LocalStack

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "stepmap dev is ready"
WORKER_ROW = re.compile(r"^\W*(control|children-\d+)\W+pid (\d+)")
URL_ROW = re.compile(r"^\W*(api|console|flower|redis|s3)\W+(\w+://[^\s│|]+)")

STANDIN_API = '''
from fastapi import FastAPI


def create_app(settings):
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
'''

STANDIN_CELERY = '''
import os

from celery import Celery

app = Celery("standin", broker=os.environ["STEPMAP_REDIS__URL"])
app.conf.worker_hijack_root_logger = False
'''

STANDIN_APPS = {
    "api": "standin_api:create_app",
    "control": "standin_celery:app",
    "children": "standin_celery:app",
}


@pytest.fixture
def standins(tmp_path: Path) -> dict[str, str]:
    """Environment that makes the stand-in apps importable by the stack's processes."""
    folder = tmp_path / "standins"
    folder.mkdir()
    (folder / "standin_api.py").write_text(STANDIN_API)
    (folder / "standin_celery.py").write_text(STANDIN_CELERY)
    return {"PYTHONPATH": os.pathsep.join([str(folder), str(REPO)])}


def _real_components_importable() -> bool:
    objects = (
        ("orchestrator.api", "create_app"),
        ("orchestrator.control.app", "app"),
        ("workers.celery_app", "app"),
    )
    try:
        return all(hasattr(importlib.import_module(mod), attr) for mod, attr in objects)
    except Exception:  # noqa: BLE001 - a component still being written counts as absent
        return False


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_gone(procs: list[psutil.Process], timeout: float = 15.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (alive := _alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _processes_of(folder: Path) -> list[psutil.Process]:
    """Live processes whose command line, working directory or PYTHONPATH mention ``folder``."""
    found = []
    for proc in psutil.process_iter():
        try:
            text = " ".join([*proc.cmdline(), proc.cwd(), proc.environ().get("PYTHONPATH", "")])
            if str(folder) in text and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
        return resp.status, resp.read()


class _LineReader:
    """Reads a process's output on a thread so that every wait can have a timeout."""

    def __init__(self, stream: object) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)  # end of output: the process exited

    def until(self, needle: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if needle in line:
                return self.seen
        raise AssertionError(f"no {needle!r} (waited {timeout}s); output:\n" + "\n".join(self.seen))


@pytest.fixture
def dev_process(tmp_path: Path, standins: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``stepmap dev`` on free ports (real components if importable, else the stand-ins)."""
    # The installed console script when there is one (make setup installs it), else the module.
    script = Path(sys.executable).with_name("stepmap")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "orchestrator.cli"]
    argv = [
        *program, "dev", "--free-ports", "--workers", "1",
        "--concurrency", "1", "--control-concurrency", "1", "--data-dir", str(tmp_path / "data"),
    ]
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    if not _real_components_importable():
        argv += [f"--{k}-{'factory' if k == 'api' else 'app'}={v}" for k, v in STANDIN_APPS.items()]
        env.update(standins)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:  # only when the test failed before its own SIGINT
            for child in _descendants(proc.pid):
                child.kill()
            proc.kill()
        proc.wait(30)


def test_stepmap_dev_serves_every_component_and_stops_all_on_sigint(
    dev_process: subprocess.Popen[bytes],
) -> None:
    reader = _LineReader(dev_process.stdout)
    output = reader.until(READY_LINE, timeout=120)
    urls = dict(m.groups() for line in output if (m := URL_ROW.match(line)))
    assert sorted(urls) == ["api", "console", "flower", "redis", "s3"]
    assert all("127.0.0.1" in url for url in urls.values())
    assert urls["console"] == f"{urls['api']}/console/"
    children = _descendants(dev_process.pid)

    assert _get(f"{urls['api']}/healthz")[0] == 200
    if _real_components_importable():
        assert _get(urls["console"])[0] == 200
    assert _get(f"{urls['flower']}/healthcheck") == (200, b"OK")
    client = redis.Redis.from_url(urls["redis"])
    assert client.ping() is True
    client.close()
    s3 = boto3.client(
        "s3", endpoint_url=urls["s3"], region_name="us-east-1",
        aws_access_key_id="stepmap", aws_secret_access_key="stepmap",
    )
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["stepmap"]
    # redis, s3, api, control, children-1, flower at least (workers add pool processes).
    assert len(children) >= 6

    dev_process.send_signal(signal.SIGINT)
    assert dev_process.wait(60) == 0
    assert _wait_gone(children) == []


def test_stepmap_dev_stops_everything_and_exits_1_when_a_component_dies(
    dev_process: subprocess.Popen[bytes],
) -> None:
    reader = _LineReader(dev_process.stdout)
    output = reader.until(READY_LINE, timeout=120)
    pids = dict(m.groups() for line in output if (m := WORKER_ROW.match(line)))
    children = _descendants(dev_process.pid)

    os.killpg(int(pids["children-1"]), signal.SIGKILL)
    reader.until("Stopped after an error.", timeout=60)
    assert dev_process.wait(30) == 1
    assert any(line.startswith("children-1 stopped unexpectedly (exit code -9)") for line in reader.seen)
    assert _wait_gone(children) == []


def test_local_stack_kills_restarts_and_adds_workers_without_leaking(
    standins: dict[str, str], tmp_path: Path
) -> None:
    before = {p.pid for p in _descendants(os.getpid())}
    stack = LocalStack(
        workers=2, concurrency=1, control_concurrency=1, apps=STANDIN_APPS, env=standins,
        workdir=tmp_path / "stack",
    )
    with stack:
        assert stack.worker_names() == ["control", "children-1", "children-2"]
        first_pid = stack.processes["children-1"].pid

        stack.kill_worker("children-1")
        assert stack.processes["children-1"].returncode() == -signal.SIGKILL
        assert stack.dead() == []  # killed on purpose is not "dead"

        restarted = stack.restart_worker("children-1", kill=True)
        assert restarted.alive() and restarted.pid != first_pid
        stack.restart_worker("control")
        added = stack.add_worker("children", concurrency=1)
        assert added.name == "children-3"
        assert stack.worker_names("children") == ["children-1", "children-2", "children-3"]
        started = [p for p in _descendants(os.getpid()) if p.pid not in before]
        assert len(started) >= 6  # redis, s3, api, control, 3 children (+ pool processes)
    assert _wait_gone(started) == []
    assert _processes_of(tmp_path) == []
    stack.stop()  # idempotent
    assert (tmp_path / "stack" / "children-1.log").read_text().count("starting children-1") == 2


def test_local_stack_stops_pool_processes_left_by_a_worker_killed_alone(
    standins: dict[str, str], tmp_path: Path
) -> None:
    with LocalStack(
        workers=1, concurrency=2, api=False, control=False, apps=STANDIN_APPS, env=standins,
        workdir=tmp_path / "stack",
    ) as stack:
        worker = stack.processes["children-1"]
        assert worker.pid is not None
        pool = _descendants(worker.pid)
        assert len(pool) == 2
        stack.kill_worker("children-1", group=False)
        assert worker.returncode() == -signal.SIGKILL
    assert _wait_gone(pool) == []
    assert _processes_of(tmp_path) == []


def test_local_stack_passes_settings_to_workers_in_the_environment(
    standins: dict[str, str], tmp_path: Path
) -> None:
    with LocalStack(
        {"limits": {"segment_size": 8}, "handler_modules": ["a.b", "c"]},
        workers=1, concurrency=1, api=False, control=False, apps=STANDIN_APPS,
        env=standins, worker_env={"EXTRA_FOR_WORKERS": "yes"}, workdir=tmp_path / "stack",
    ) as stack:
        env = psutil.Process(stack.processes["children-1"].pid).environ()
    assert env["STEPMAP_REDIS__URL"] == stack.redis_url
    assert env["STEPMAP_S3__ENDPOINT_URL"] == stack.s3_endpoint_url
    assert env["STEPMAP_API__AUTH_ENABLED"] == "false"
    assert env["STEPMAP_LIMITS__SEGMENT_SIZE"] == "8"
    assert env["STEPMAP_HANDLER_MODULES"] == '["a.b", "c"]'
    assert env["EXTRA_FOR_WORKERS"] == "yes"
    assert "STEPMAP_REDIS__BROKER_URL" not in env


def test_local_stack_names_the_component_that_failed_with_its_log(
    standins: dict[str, str], tmp_path: Path
) -> None:
    stack = LocalStack(
        workers=1, api=False, control=False, apps={**STANDIN_APPS, "children": "no_such_module:app"},
        env=standins, workdir=tmp_path / "stack", startup_timeout=60,
    )
    with pytest.raises(StackError) as info:
        stack.start()
    message = str(info.value)
    assert message.startswith("children-1 exited while starting (exit code ")
    assert "no_such_module" in message
    assert [p.returncode() is not None for p in stack.processes.values()] == [True]
    assert stack.servers == {}
    assert _processes_of(tmp_path) == []


def test_local_stack_refuses_a_fixed_port_already_in_use(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        stack = LocalStack(ports={"api": port}, workdir=tmp_path / "stack")
        with pytest.raises(StackError, match=f"^api: port {port} on 127.0.0.1 is already in use$"):
            stack.start()
    assert stack.processes == {}


def test_the_local_s3_server_keeps_result_parts_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto spools an object over its key buffer to disk and reads it back on every GET; the
    stack's server is started with a buffer that holds 8-MiB result parts (a variable set by
    the user wins)."""
    from orchestrator.devstack.servers import S3_KEY_BUFFER_BYTES, S3_KEY_BUFFER_VARIABLE, start_s3

    assert S3_KEY_BUFFER_BYTES >= 64 * 1024**2
    for given, expected in ((None, str(S3_KEY_BUFFER_BYTES)), ("6000000", "6000000")):
        if given is None:
            monkeypatch.delenv(S3_KEY_BUFFER_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(S3_KEY_BUFFER_VARIABLE, given)
        server = start_s3(workdir=tmp_path / f"s3-{given}")
        try:
            environ = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
            assert f"{S3_KEY_BUFFER_VARIABLE}={expected}".encode() in environ
        finally:
            server.stop()

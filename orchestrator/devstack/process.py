"""One child process of the local stack: its own session, its own log file, a clean stop.

Every process is started with ``start_new_session=True`` so that it leads its own process group:
a Celery prefork worker's pool children, uvicorn's reloader or anything else a component forks
are signalled together, and a Ctrl-C typed at ``stepmap dev`` reaches only ``stepmap dev`` (which
then stops the group in order) instead of racing every component's own shutdown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
"""The only address the local stack binds."""


class StackError(RuntimeError):
    """A component of the local stack could not be started (the message names it)."""


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether ``port`` can be bound on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def read_tail(path: Path | None, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as handle:
        # Logs of a long dev session can be large; the tail is in the last few KiB.
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 64 * 1024))
        text = handle.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def signal_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to the process group led by ``pid``; False when the group is gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The group id was reused by a process we do not own: ours is gone.
        return False
    return True


@dataclass(eq=False)  # identity semantics: used as a dict key while waiting
class ManagedProcess:
    """A component process of the local stack (API, worker, Flower).

    Attributes:
        name: Component name, unique in its stack (``api``, ``control``, ``children-2``).
        kind: What it is: ``api``, ``control``, ``children`` or ``flower``.
        argv: The command line it runs.
        env: Its complete environment.
        log_path: File receiving its stdout and stderr.
        cwd: Working directory (so that ``python -m`` finds the project and test modules).
        url: Where it serves, if it serves HTTP.
        extra_env: The variables given for this process on top of the stack's (kept for restarts).
        concurrency: Pool size of a worker.
        ready_key: Redis key a worker writes its pid to when it consumes.
        group_may_linger: Only the leader was signalled; other members may still run.
    """

    name: str
    kind: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path
    url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    extra_env: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    ready_key: str | None = None
    group_may_linger: bool = False

    @property
    def pid(self) -> int | None:
        """Process id of the running process (None before start)."""
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        """Spawn the process in a new session, appending its output to :attr:`log_path`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- stepmap devstack: starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 - argv built by the stack
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def returncode(self) -> int | None:
        """Exit status once the process ended (negative: killed by that signal)."""
        return self.process.poll() if self.process is not None else None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process's log."""
        return read_tail(self.log_path, lines)

    def signal(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group (e.g. SIGKILL to simulate a crash)."""
        if self.process is not None:
            signal_group(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group, wait up to ``timeout`` seconds, then SIGKILL it. Idempotent."""
        if self.process is None:
            return
        was_running = self.process.poll() is None
        if was_running:
            signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                signal_group(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout)
        # Members that outlived their leader (e.g. orphaned pool processes) go too. Only when
        # the group may still exist: once a group is empty its id can be reused by a stranger.
        if was_running or self.group_may_linger:
            signal_group(self.process.pid, signal.SIGKILL)
            self.group_may_linger = False

    def failure(self, what: str) -> StackError:
        """A :class:`StackError` naming this component, with the tail of its log."""
        code = self.returncode()
        status = f" (exit code {code})" if code is not None else ""
        return StackError(
            f"{self.name} {what}{status}; last lines of {self.log_path}:\n{self.log_tail()}"
        )


def http_check(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers GET with a 2xx status."""

    def check() -> bool:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback only
            return bool(200 <= resp.status < 300)

    return check


def wait_ready(
    pending: Mapping[ManagedProcess, Callable[[], bool]],
    timeout: float,
    poll: float = 0.1,
) -> None:
    """Wait until every process's readiness check passes.

    Raises:
        StackError: when a process exits first or ``timeout`` seconds pass, naming the first
            component at fault and quoting its log.
    """
    waiting = dict(pending)
    deadline = time.monotonic() + timeout
    while waiting:
        for proc, check in list(waiting.items()):
            if not proc.alive():
                raise proc.failure("exited while starting")
            ready = False
            with contextlib.suppress(Exception):
                ready = bool(check())
            if ready:
                del waiting[proc]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise next(iter(waiting)).failure(f"was not ready after {timeout:g}s")
        time.sleep(poll)


"""Worker process control of the local stack: add, kill, stop and restart Celery workers.

The e2e tests crash workers on purpose (SIGKILL to the whole process group, pool processes
included) and restart the control worker in the middle of a Map Run; these are the methods they
use. Mixed into :class:`~orchestrator.devstack.stack.LocalStack`, which spawns the processes.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Mapping

from orchestrator.devstack.commands import WorkerKind
from orchestrator.devstack.process import ManagedProcess, wait_ready


class WorkerControl:
    """Methods of :class:`LocalStack` that act on its worker processes by name."""

    processes: dict[str, ManagedProcess]
    _stopped_on_purpose: set[str]
    _concurrency: int
    _control_concurrency: int | None
    _startup_timeout: float
    _stop_timeout: float

    def _spawn_worker(
        self, name: str, kind: WorkerKind, concurrency: int | None, extra: Mapping[str, str]
    ) -> ManagedProcess:
        raise NotImplementedError

    def _ready_check(self, proc: ManagedProcess) -> Callable[[], bool]:
        raise NotImplementedError

    def _process(self, name: str) -> ManagedProcess:
        try:
            return self.processes[name]
        except KeyError:
            raise KeyError(f"no process named {name!r}; running: {sorted(self.processes)}") from None

    def _next_name(self, prefix: str) -> str:
        n = 1
        while f"{prefix}-{n}" in self.processes:
            n += 1
        return f"{prefix}-{n}"

    def _next_child_name(self) -> str:
        return self._next_name("children")

    def worker_names(self, kind: WorkerKind | None = None) -> list[str]:
        """Names of the worker processes (``control``, ``children-1``, ...), of ``kind`` if set."""
        return [
            name for name, proc in self.processes.items()
            if proc.kind in ("control", "children") and (kind is None or proc.kind == kind)
        ]

    def add_worker(
        self,
        kind: WorkerKind = "children",
        *,
        concurrency: int | None = None,
        env: Mapping[str, str] | None = None,
        name: str | None = None,
        wait: bool = True,
    ) -> ManagedProcess:
        """Start one more worker process and (by default) wait until it consumes.

        Args:
            kind: ``children`` or ``control``.
            concurrency: Pool size (the stack's setting for the kind when None).
            env: Extra environment of this worker only.
            name: Component name (``children-N`` / ``control-N`` when None).
            wait: Wait for the worker's readiness mark.
        """
        if name is None:
            name = self._next_child_name() if kind == "children" else self._next_name("control")
        if name in self.processes and self.processes[name].alive():
            raise ValueError(f"a process named {name!r} is already running")
        default = self._concurrency if kind == "children" else self._control_concurrency
        proc = self._spawn_worker(name, kind, concurrency or default, dict(env or {}))
        if wait:
            wait_ready({proc: self._ready_check(proc)}, self._startup_timeout)
        return proc

    def kill_worker(
        self, name: str, sig: int = signal.SIGKILL, *, group: bool = True, timeout: float = 10.0
    ) -> None:
        """Send ``sig`` to a worker and wait until its main process exits.

        Args:
            name: The worker's name (``children-1``, ``control``).
            sig: The signal; SIGKILL simulates a crash.
            group: Signal the whole process group (main process and pool processes, as when a
                machine dies); False signals only the main process, leaving its pool processes to
                notice on their own.
            timeout: Seconds to wait for the main process to exit.
        """
        proc = self._process(name)
        self._stopped_on_purpose.add(name)
        if group:
            proc.signal(sig)
        elif proc.process is not None and proc.alive():
            proc.process.send_signal(sig)
            proc.group_may_linger = True
        if proc.process is not None:
            try:
                proc.process.wait(timeout)
            except subprocess.TimeoutExpired as exc:
                raise proc.failure(f"did not exit {timeout:g}s after signal {sig}") from exc

    def stop_worker(self, name: str) -> None:
        """Stop a worker gracefully (SIGTERM: Celery's warm shutdown; SIGKILL after the timeout)."""
        self._stopped_on_purpose.add(name)
        self._process(name).stop(self._stop_timeout)

    def restart_worker(self, name: str, *, kill: bool = False, wait: bool = True) -> ManagedProcess:
        """Stop a worker (gracefully, or with SIGKILL if ``kill``) and start it again.

        The new process has the same name, kind, command and log file.
        """
        old = self._process(name)
        if kill:
            self.kill_worker(name)
        else:
            self.stop_worker(name)
        kind: WorkerKind = "control" if old.kind == "control" else "children"
        proc = self._spawn_worker(name, kind, old.concurrency, old.extra_env)
        if wait:
            wait_ready({proc: self._ready_check(proc)}, self._startup_timeout)
        return proc

    def dead(self) -> list[ManagedProcess]:
        """Processes that exited although nobody stopped them."""
        return [
            proc for name, proc in self.processes.items()
            if name not in self._stopped_on_purpose and proc.returncode() is not None
        ]

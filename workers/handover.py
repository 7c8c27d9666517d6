"""Callback and activity Tasks of Map Run children are handed over to the control plane.

A Task with a ``.waitForTaskToken`` or activity resource waits for SendTaskSuccess/Failure,
which may take a year. A worker thread must not be what waits: a lost worker would lose the
token. So the child suspends there (the engine's ``Pending``), the worker reports it SUSPENDED
with its checkpoint, and the control plane hosts it like a child that reached a nested
Distributed Map (``ParentRunner.host_child``): it keeps its concurrency permit, its token lives
in Redis, and the answer resumes it.
"""

from __future__ import annotations

from typing import Any

from orchestrator.asl import Pending, TaskRequest
from orchestrator.asl.ports import Clock, RequestPool, Request
from orchestrator.messages import waits_for_answer
from workers.invoker import WorkerTaskInvoker


class HandOverCallbacks:
    """The children's TaskInvoker: runs Tasks on the worker, except those that wait for a token."""

    def __init__(self, invoker: WorkerTaskInvoker) -> None:
        self.invoker = invoker

    def invoke(self, request: TaskRequest) -> Any:
        """Run the Task, or suspend the child at a callback or activity Task."""
        if waits_for_answer(request.resource):
            raise Pending(request)
        return self.invoker.invoke(request)

    def open_pool(self, clock: Clock) -> RequestPool:
        """The worker's thread pool, refusing the calls that wait for a token."""
        return _HandOverPool(self.invoker.open_pool(clock))


class _HandOverPool:
    """A pool that leaves callback and activity Tasks to the control plane (``submit`` False)."""

    def __init__(self, pool: RequestPool) -> None:
        self.pool = pool

    def submit(self, key: str, request: Request) -> bool:
        if isinstance(request, TaskRequest) and waits_for_answer(request.resource):
            return False
        return self.pool.submit(key, request)

    def wait(self) -> list[tuple[str, dict[str, Any]]]:
        return self.pool.wait()

    def close(self) -> None:
        self.pool.close()

"""An in-process Map Run world: a coordinator, a parent runner and a child runner.

Control messages and chord segments that the coordinator sends are queued on a recording bus
and run on demand, children by the real :class:`~workers.runner.ChildRunner`. By default every
part is in memory (memory stores, a fake clock): unit tests need no network, no Celery and no
sleeping. Integration tests pass a Redis store, its ledger and an S3 client factory instead.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from orchestrator import messages
from orchestrator.asl import DistributedMapRequest
from orchestrator.control.parent import ParentRunner
from orchestrator.maprun import Deps, MapRunCoordinator, MapRunOutcome
from orchestrator.settings import Settings
from orchestrator.store.maprun_base import MapRunStore
from orchestrator.store.maprun_memory import MemoryMapRunStore
from orchestrator.store.memory_store import MemoryStore
from workers.runner import ChildRunner

EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:orders:run-1"
MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:orders"

#: A child that fails when its input has ``"fail": true`` and outputs ``{"id": ...}`` otherwise.
PROCESSOR: dict[str, Any] = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}], "Default": "Done"},
        "Boom": {"Type": "Fail", "Error": "App.Boom", "Cause": "asked to fail"},
        "Done": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": True},
    },
}


class FakeClock:
    """Epoch seconds that move only when told."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingBus:
    """Queues what the coordinator and the parent runner send."""

    def __init__(self) -> None:
        self.control: deque[tuple[str, tuple[Any, ...]]] = deque()
        self.segments: deque[tuple[list[messages.ChildBatch], str, str]] = deque()
        self.invocations: list[messages.TaskInvocation] = []
        #: What ``children_waiting`` answers (the broker's count of queued child messages).
        self.waiting: int | None = 0
        #: What ``children_reserved`` answers (payloads of messages taken but never acked).
        self.reserved: list[str | dict[str, Any]] = []

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None:
        self.control.append((name, args))

    def send_segment(self, batches: Sequence[messages.ChildBatch], map_run_arn: str,
                     segment: str) -> None:
        self.segments.append((list(batches), map_run_arn, segment))

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None:
        self.invocations.append(invocation)

    def children_waiting(self) -> int | None:
        return self.waiting

    def children_reserved(self, before: float) -> list[str | dict[str, Any]]:
        return list(self.reserved)

    def sent(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.control if n == name]


def request(items: list[Any], *, max_concurrency: int = 0, count: int | None = None,
            percentage: float | None = None, execution_type: str = "STANDARD",
            item_selector: Any = None, batcher: dict[str, Any] | None = None,
            result_writer: dict[str, Any] | None = None) -> DistributedMapRequest:
    processor = json.loads(json.dumps(PROCESSOR))
    processor["ProcessorConfig"]["ExecutionType"] = execution_type
    return DistributedMapRequest(
        state_name="Process", label=None, map_state_raw={}, effective_input={"items": items},
        context={}, max_concurrency=max_concurrency, tolerated_failure_count=count,
        tolerated_failure_percentage=percentage, reader=None, items=items,
        item_selector=item_selector, batcher=batcher, result_writer=result_writer,
        processor=processor, execution_type=execution_type)


class Killed(BaseException):
    """The control process dies (not an error the code under test could catch)."""


class World:
    """A coordinator, a parent runner and a child runner (over memory stores by default)."""

    def __init__(self, *, store: MapRunStore | None = None,
                 ledger: messages.ChildLedger | None = None,
                 s3_factory: Callable[[], Any] = lambda: None,
                 clock: Callable[[], float] | None = None, **limits: Any) -> None:
        self.clock = FakeClock()
        now = clock or self.clock
        memory = MemoryMapRunStore(clock=now)
        self.store: Any = store if store is not None else memory
        self.records = MemoryStore(clock=now)
        self.bus = RecordingBus()
        self.settings = Settings(limits={"segment_size": 256, **limits})
        self.coordinator = MapRunCoordinator(Deps(
            store=self.store, bus=self.bus, s3_factory=s3_factory, settings=self.settings,
            clock=now))
        self.parents = ParentRunner(self.coordinator, self.records, self.bus)
        self.runner = ChildRunner(ledger if ledger is not None else memory.ledger(), clock=now,
                                  s3_factory=s3_factory)

    def start(self, req: DistributedMapRequest) -> str:
        return self.coordinator.start(req, EXECUTION)

    # -- running queued messages ------------------------------------------------------------
    def run_control(self) -> int:
        """Run queued control messages until none is left; returns how many ran."""
        handlers = {
            messages.MAP_RUN_FEED: self.coordinator.feed,
            messages.MAP_RUN_DISPATCH: self.coordinator.dispatch,
            messages.MAP_RUN_WRITE: self.coordinator.write,
            messages.ADVANCE_EXECUTION: self.parents.advance,
            messages.STOP_EXECUTION: self.parents.stop,
            messages.REDRIVE_EXECUTION: self.parents.redrive,
        }
        ran = 0
        while self.bus.control:
            name, args = self.bus.control.popleft()
            handlers[name](*args)
            ran += 1
        return ran

    def run_children(self, batches: list[messages.ChildBatch]) -> list[messages.ChildrenReport]:
        """Run child messages on the child runner; returns their reports (not yet delivered)."""
        return [self.runner.run(batch) for batch in batches]

    def deliver(self, report: messages.ChildrenReport) -> None:
        """A ``children_done`` message reaches the control plane."""
        self.parents.host_suspended(report)
        self.coordinator.children_done(report)

    def run_segment(self) -> None:
        """Run the oldest chord segment: its messages, their reports, then its body."""
        batches, arn, segment = self.bus.segments.popleft()
        for report in self.run_children(batches):
            self.deliver(report)
        self.coordinator.close_segment(arn, segment)

    def drain(self) -> None:
        """Run everything queued, and what that queues, until the world is quiet."""
        while self.bus.control or self.bus.segments:
            self.run_control()
            if self.bus.segments:
                self.run_segment()

    def feed_dying_once(self, arn: str, kill_at_chunk: int | None,
                        check: Callable[[Any], None] = lambda chunk: None,
                        lease_ms: int = 15_000) -> None:
        """Feed until the reader is done, the feeder dying (:class:`Killed`) as it stores
        its ``kill_at_chunk``-th chunk; ``check`` sees every chunk stored."""
        chunks = 0
        append = self.store.append_children

        def dies_once(arn_: str, chunk: Any) -> None:
            nonlocal chunks
            chunks += 1
            if chunks == kill_at_chunk:
                raise Killed
            check(chunk)
            append(arn_, chunk)

        self.store.append_children = dies_once
        try:
            for _ in range(100):
                try:
                    self.coordinator.feed(arn)
                except Killed:
                    self.clock.advance(lease_ms / 1000 + 1)  # its feed lease lapses
                run = self.store.get(arn)
                if run is not None and run.reader_done:
                    return
        finally:
            self.store.append_children = append

    def ended(self, arn: str) -> MapRunOutcome:
        """Drain the world, then the Map Run's result, which must be there (it has ended)."""
        self.drain()
        result = self.coordinator.result(arn)
        assert result is not None, f"{arn} has not ended"
        return result

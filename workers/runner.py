"""The child-workflow runner: runs the ItemProcessor once per child of a message.

Each child is its own execution with its own name, ARN, context object and (for STANDARD)
history. Before running a child the runner looks up whether it already finished: a STANDARD
child that succeeded is never run again (a redelivered message only reports it), and no child
starts once its Map Run has been failed or aborted.

Redrive (spec 1.3, 3.6): a STANDARD child that fails leaves its journal (the engine's
failure checkpoint) in its ledger (:meth:`ChildLedger.keep_journal`). When its Map Run is
redriven, the child resumes from there as AWS's RedriveExecution does: its history goes on
with ``ExecutionRedriven``, the states that succeeded are replayed from the journal without
running again, and the state that failed runs again. A child with no journal (ABORTED while
running, or EXPRESS) runs again from ``StartAt``.

Everything the runner reads or writes about its Map Run goes through one
:class:`orchestrator.messages.ChildLedger` (``workers/ledger.py`` in production, the memory
store's ledger in unit tests); the runner itself never talks to Redis.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from collections.abc import Callable
from typing import Any

from orchestrator import messages
from orchestrator.asl.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError
from orchestrator.jsontext import dumps, loads
from orchestrator.logging_context import bound
from orchestrator.asl import (
    Checkpoint,
    DistributedMapRequest,
    EngineOptions,
    ExecutionInfo,
    Failed,
    Pending,
    Ports,
    StateMachine,
    Succeeded,
    Suspended,
    is_instant,
    parse_definition,
    run_execution,
)
from orchestrator.readers.ranges import is_range, resolve_all
from orchestrator.statuses import ChildStatus, MapRunStatus, outcome_status
from workers.handover import HandOverCallbacks
from workers.integrations import WorkerIntegrations
from workers.invoker import WorkerTaskInvoker
from workers.leases import LeaseKeeper

log = logging.getLogger(__name__)



#: A child is started at most this many times per redrive; the delivery after that fails it
#: with States.Runtime (its worker died every time: a crash, an OOM kill, a timeout).
MAX_STARTS = 5


def _is_batch(input_json: str) -> bool:
    """Whether a child input is an ItemBatcher batch (``{"Items": [...], ...}``)."""
    value = json.loads(input_json)
    return isinstance(value, dict) and isinstance(value.get("Items"), list)


class SleepingClock:
    """Real time for child workflows: waits and retry delays sleep in the worker."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, state_name: str, until: datetime) -> None:
        delay = (until - datetime.now(UTC)).total_seconds()
        if delay > 0:
            time.sleep(delay)


class _ClosedCheck:
    """Whether the Map Run was failed or aborted: read at most every 50 ms per message.

    A Redis round trip per child cost a sixth of a batch-1 child's time; a child started
    within 50 ms of its Map Run's failure is recorded ABORTED by the control plane anyway.
    """

    INTERVAL = 0.05

    def __init__(self, ledger: messages.ChildLedger, batch: messages.ChildBatch, *,
                 express: bool) -> None:
        self.ledger = ledger
        self.batch = batch
        # A failing EXPRESS run waits in CLOSING for the children it started: they cannot be
        # stopped (spec 1.3), so one dispatched before the failure still runs.
        self.open_statuses: tuple[str, ...] = (
            (MapRunStatus.RUNNING, MapRunStatus.CLOSING) if express else (MapRunStatus.RUNNING,))
        self.checked = 0.0
        self.closed = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.closed and now - self.checked >= self.INTERVAL:
            status = self.ledger.map_run_status(self.batch)
            self.closed = status is not None and status not in self.open_statuses
            self.checked = now
        return self.closed


class HandOverMapRunner:
    """A child that reaches a (nested) Distributed Map is handed over to the control plane.

    Starting a Map Run is coordination work that workers never do: the engine suspends the
    child, the worker reports it SUSPENDED with its checkpoint, and the control plane runs it
    from there like a parent execution (docs/architecture.md: workers never import the coordinator).
    """

    def start(self, request: DistributedMapRequest) -> str:
        raise Pending(request)

    def result(self, map_run_arn: str) -> Any:  # pragma: no cover - never reached on a worker
        raise LookupError("a worker never waits for a Map Run")


class ChildRunner:
    """Runs :class:`messages.ChildBatch` messages; one instance per worker process."""

    def __init__(self, ledger: messages.ChildLedger, *, payload_limit: int = 262_144,
                 region: str = "us-east-1", account_id: str = "000000000000",
                 clock: Callable[[], float] = time.time, max_starts: int = MAX_STARTS,
                 integrations: WorkerIntegrations | None = None,
                 s3_factory: Callable[[], Any] | None = None) -> None:
        self.ledger = ledger
        #: Reads range children's inputs (``orchestrator/readers/ranges.py``); made on first use.
        self.s3_factory = s3_factory
        self._s3: Any = None
        self.max_starts = max_starts
        self.now = clock  # epoch seconds of the permits' leases (a fake clock in unit tests)
        self.payload_limit = payload_limit
        self.invoker = WorkerTaskInvoker(region=region, account_id=account_id,
                                         integrations=integrations)
        #: Callback and activity Tasks suspend the child (workers/handover.py).
        self.tasks = HandOverCallbacks(self.invoker)
        self.clock = SleepingClock()
        self.map_runner = HandOverMapRunner()
        # One set of ports for every child (they hold no per-run state: a run without a
        # random source of its own draws from a fresh one).
        self.ports = Ports(tasks=self.tasks, clock=self.clock, map_runner=self.map_runner)
        self._machines: dict[str, tuple[StateMachine, bool]] = {}

    def machine(self, batch: messages.ChildBatch) -> StateMachine:
        """The parsed ItemProcessor (cached by content hash)."""
        return self._processor(batch)[0]

    def _processor(self, batch: messages.ChildBatch) -> tuple[StateMachine, bool]:
        """The parsed ItemProcessor and whether it is instant (``orchestrator.asl.is_instant``)."""
        known = self._machines.get(batch.processor_hash)
        if known is None:
            raw = self.ledger.processor(batch)
            if raw is None:
                raise LookupError(f"ItemProcessor definition {batch.processor_key} is missing")
            machine = parse_definition(raw, machine_type="STANDARD")
            known = self._machines[batch.processor_hash] = (machine, is_instant(json.loads(raw)))
        return known

    def run(self, batch: messages.ChildBatch) -> messages.ChildrenReport:
        """Run every child of ``batch`` in order and report each outcome."""
        outcomes: list[messages.ChildOutcome] = []
        machine, instant = self._processor(batch)
        standard = batch.execution_type == "STANDARD"
        # Only a STANDARD child that succeeded is skipped (EXPRESS children run at least once):
        # an EXPRESS message needs no round trip for its children's statuses.
        known: list[str | None] = (self.ledger.statuses(batch) if standard
                                   else [None] * len(batch.children))
        # Outcomes of instant STANDARD children wait for one outbox write per message.
        unwritten: list[messages.ChildOutcome] = []
        options = EngineOptions(payload_limit_bytes=self.payload_limit, history=standard)
        closed = _ClosedCheck(self.ledger, batch, express=not standard)
        journals: list[str | None] = [None] * len(batch.children)
        if standard and batch.redrive_count and batch.children:
            journals = self.ledger.journals(batch)
        # Claiming starts the children's leases; a child whose permit is gone (reclaimed and
        # dispatched again) or held live by another delivery of this message is not run here
        # and not reported: its outcome belongs to that other dispatch.
        now_ms = int(self.now() * 1000)
        claimed = self.ledger.claim(batch, [c.holder for c in batch.children], uuid.uuid4().hex,
                                    now_ms, now_ms + batch.lease_ms)
        inputs = self._resolve(batch, batch.children, claimed)
        with LeaseKeeper(self.ledger, batch) as lease:
            for child, previous, journal, mine in zip(batch.children, known, journals, claimed,
                                                      strict=True):
                now = time.time()
                if previous == ChildStatus.SUCCEEDED and standard:
                    outcomes.append(messages.ChildOutcome(
                        index=child.index, name=child.name, holder=child.holder,
                        status=ChildStatus.SUCCEEDED, start=now, stop=now, skipped=True))
                elif not mine:
                    # Not reported either, also when the run has closed: a stale delivery's
                    # ABORTED, recorded after a redrive, would take the child out of it.
                    log.warning("child %s%s: its permit is not this delivery's; not run here",
                                batch.execution_prefix, child.name)
                elif closed():
                    outcomes.append(messages.ChildOutcome(
                        index=child.index, name=child.name, holder=child.holder,
                        status=ChildStatus.ABORTED, start=now, stop=now, skipped=True))
                elif mine > self.max_starts:
                    outcomes.append(self._gave_up(batch, child, mine))
                else:
                    with bound(execution_arn=batch.execution_prefix + child.name,
                               child=child.name):
                        text = inputs.get(child.index)
                        if isinstance(text, StatesError):
                            outcome = self._unread(batch, child, text)
                        else:
                            if text is not None:
                                child = child.model_copy(update={"input": text})
                            outcome = self._run_one(batch, child, machine, options, journal)
                        if outcome.error is not None:
                            log.warning("child %s %s: %s", child.name, outcome.status.value,
                                        outcome.error)
                    if standard and instant:
                        unwritten.append(outcome)
                    elif standard:
                        # Only STANDARD children need it: EXPRESS ones run at least once. The
                        # report leaves only when the whole message is done; if the child's
                        # permit expires before it is recorded, the coordinator settles the
                        # child from the outbox instead of running it again.
                        self.ledger.report_early(batch, [outcome])
                    outcomes.append(outcome)
                lease.finished(child.holder)
            # An instant child (no Task, no Wait) has no effect outside its execution and the
            # message's children all ran within milliseconds: one write per message, not per
            # child. Were the worker to die before it, they would run again, unseen.
            if unwritten:
                self.ledger.report_early(batch, unwritten)
        return messages.ChildrenReport(map_run_arn=batch.map_run_arn, segment=batch.segment,
                                       outcomes=outcomes)

    def _resolve(self, batch: messages.ChildBatch, children: list[messages.ChildWork],
                 claimed: list[int]) -> dict[int, str | StatesError]:
        """The inputs of the message's range children that this delivery runs, read from S3
        (one GET per run of adjacent ranges) and stored over their descriptors before any of
        them runs, so everything that reads an input later reads the text; a child whose range
        cannot be read gets its failure instead (docs/decisions.md)."""
        wanted = [c for c, mine in zip(children, claimed, strict=True)
                  if mine and is_range(c.input)]
        if not wanted:
            return {}
        if self._s3 is None:
            if self.s3_factory is None:
                raise LookupError("this runner has no S3 client to read range children with")
            self._s3 = self.s3_factory()
        results = resolve_all(self._s3, [c.input for c in wanted])
        texts = {c.index: r for c, r in zip(wanted, results, strict=True) if isinstance(r, str)}
        if texts:
            self.ledger.keep_inputs(batch, texts)
        return {c.index: r for c, r in zip(wanted, results, strict=True)}

    @staticmethod
    def _unread(batch: messages.ChildBatch, child: messages.ChildWork,
                exc: StatesError) -> messages.ChildOutcome:
        """A range child whose range could not be read: FAILED, flagged ``reader_failed``."""
        log.warning("child %s%s: cannot read its range: %s", batch.execution_prefix, child.name,
                    exc.cause)
        now = time.time()
        return messages.ChildOutcome(
            index=child.index, name=child.name, holder=child.holder, status=ChildStatus.FAILED,
            error=exc.error, cause=exc.cause, start=now, stop=now,
            redrive_count=batch.redrive_count, reader_failed=True)

    def _gave_up(self, batch: messages.ChildBatch, child: messages.ChildWork,
                 starts: int) -> messages.ChildOutcome:
        """A child whose worker died every time it ran it fails instead of looping."""
        now = time.time()
        log.error("child %s%s: started %d times, its worker died each time; failing it",
                  batch.execution_prefix, child.name, starts - 1)
        return messages.ChildOutcome(
            index=child.index, name=child.name, holder=child.holder, status=ChildStatus.FAILED,
            error=RUNTIME, cause=f"The child execution was started {starts - 1} times and its "
            f"worker process died each time (the limit is {self.max_starts - 1}); it is not "
            "started again.", start=now, stop=now, redrive_count=batch.redrive_count)

    def _keep_journal(self, batch: messages.ChildBatch, child: messages.ChildWork,
                      outcome: Failed | Succeeded | Suspended, history: list[dict[str, Any]],
                      *, resumed: bool) -> None:
        """Keep a failed STANDARD child's journal for a redrive; drop it once it succeeded."""
        if isinstance(outcome, Failed) and outcome.checkpoint is not None and history:
            point = {"checkpoint": outcome.checkpoint.to_dict(),
                     "history_length": int(history[-1]["id"])}
            self.ledger.keep_journal(batch, child.index, dumps(point))
        elif resumed and isinstance(outcome, Succeeded):
            self.ledger.drop_journal(batch, child.index)

    def _run_one(self, batch: messages.ChildBatch, child: messages.ChildWork,
                 machine: StateMachine, options: EngineOptions,
                 journal: str | None = None) -> messages.ChildOutcome:
        start = time.time()
        arn = batch.execution_prefix + child.name
        started = datetime.fromtimestamp(start, UTC)
        info = ExecutionInfo(
            execution_arn=arn, name=child.name, state_machine_arn=batch.state_machine_arn,
            state_machine_name=batch.state_machine_arn.rsplit(":", 1)[-1],
            start_time=started, redrive_count=batch.redrive_count,
            redrive_time=started if journal else None,
        )
        # A UTF-8 character is at most 4 bytes: most inputs need no encoding to be measured.
        if len(child.input) * 4 > self.payload_limit \
                and len(child.input.encode()) > self.payload_limit and not _is_batch(child.input):
            # A child input of one item over the payload limit fails that child (a batch of
            # several items is bounded by its ItemBatcher's fields instead: docs/decisions.md).
            return messages.ChildOutcome(
                index=child.index, name=child.name, holder=child.holder, status=ChildStatus.FAILED,
                error=DATA_LIMIT_EXCEEDED,
                cause=f"The child's input of {len(child.input.encode())} bytes exceeds the "
                      f"maximum allowed size of {self.payload_limit} bytes.",
                start=start, stop=time.time(), redrive_count=batch.redrive_count)
        ports = self.ports
        checkpoint: Checkpoint | None = None
        history: list[dict[str, Any]] = []
        if journal:
            point = json.loads(journal)
            length = int(point["history_length"])
            history.append({"timestamp": start, "type": "ExecutionRedriven", "id": length + 1,
                            "previousEventId": length,
                            "executionRedrivenEventDetails": {"redriveCount": batch.redrive_count}})
            checkpoint = Checkpoint.from_dict(point["checkpoint"]).for_redrive(length + 1)
        try:
            outcome = run_execution(machine, loads(child.input), info, ports,
                                    options=options, checkpoint=checkpoint)
        except Exception as exc:  # noqa: BLE001 - a child never takes its worker down
            log.exception("child %s crashed the engine", arn)
            outcome = Failed("States.Runtime", f"{type(exc).__name__}: {exc}", [])
        stop = time.time()
        history += outcome.events
        if options.history:
            self._keep_journal(batch, child, outcome, history, resumed=journal is not None)
        else:
            history = []
        if isinstance(outcome, Succeeded):
            return messages.ChildOutcome(index=child.index, name=child.name, holder=child.holder,
                                         status=ChildStatus.SUCCEEDED, output=dumps(outcome.output),
                                         start=start, stop=stop, history=history or None,
                                         redrive_count=batch.redrive_count)
        if isinstance(outcome, Suspended):
            # A nested Distributed Map or a callback/activity Task suspends (handed over).
            return messages.ChildOutcome(
                index=child.index, name=child.name, holder=child.holder, status=ChildStatus.SUSPENDED,
                start=start, stop=stop, history=history or None,
                checkpoint=outcome.checkpoint.to_dict())
        return messages.ChildOutcome(index=child.index, name=child.name, holder=child.holder,
                                     status=outcome_status(outcome), error=outcome.error, cause=outcome.cause,
                                     start=start, stop=stop, history=history or None,
                                     redrive_count=batch.redrive_count)

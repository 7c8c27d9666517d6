"""Running parent executions in the control plane, across restarts.

``advance`` runs the engine on an execution until it ends or suspends. A suspended execution
keeps its engine checkpoint in Redis; whatever it waits for (a Task on a worker, a timer, a
Map Run) sends ``advance`` again, and the engine replays its journal and goes on. A lock
makes sure one control process advances an execution at a time; a restarted orchestrator
loses nothing because every step it took is in Redis (docs/architecture.md invariant 6).

Its dependencies are explicit: the Map Run coordinator (Distributed Map states, hosted children,
redrives; its store also keeps the advance lease and parent Task results), the execution
records, and a bus for the messages it sends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from orchestrator import messages
from orchestrator.asl import (
    DATA_LIMIT_EXCEEDED,
    RUNTIME,
    Checkpoint,
    DistributedMapRequest,
    EngineOptions,
    ExecutionInfo,
    Failed,
    InvalidDefinition,
    Ports,
    StateMachine,
    StatesError,
    Succeeded,
    Suspended,
    TaskRequest,
    WaitRequest,
    parse_definition,
    run_execution,
)
from orchestrator.asl.ports import MapRunResultRequest, Request, request_from_dict
from orchestrator.control.callbacks import CallbackWaits
from orchestrator.control.nested import SYNC_CALL, NestedExecutions
from orchestrator.control.ports import ControlClock, ControlMapRunner, ControlTaskInvoker
from orchestrator.executions.arns import parse_execution_arn
from orchestrator.executions.binding import (
    REQUEST_FIELD,
    BindingError,
    MapRunBinding,
    binding_from_tags,
    with_request,
)
from orchestrator.executions.deletion import finish_deleting
from orchestrator.jsontext import dumps
from orchestrator.maprun import MapRunCoordinator, MapRunNotRedrivable
from orchestrator.maprun.leases import LeaseHeld
from orchestrator.messages import RECONCILE_EVERY
from orchestrator.resources import runs_in_control_plane
from orchestrator.statuses import ChildStatus, ExecutionStatus, MapRunStatus, outcome_status
from orchestrator.store.maprun_base import Lease

log = logging.getLogger(__name__)

#: The advance lease: short, renewed while the engine runs (a killed control process frees
#: it within seconds; docs/architecture.md invariant 11).
LOCK_MS = 15_000
#: An execution whose advance killed its control process this many times minus one is failed
#: with States.Runtime instead of being advanced again (redelivery and the sweep would loop).
MAX_ADVANCE_STARTS = 5


class ExecutionRecords(Protocol):
    """What the parent runner needs from the execution store."""

    def get_execution(self, arn: str) -> dict[str, Any] | None: ...
    def stale_open_executions(self, before: float, limit: int) -> list[str]: ...
    def touch_open_execution(self, arn: str, at: float) -> None: ...
    def drop_open_execution(self, arn: str) -> None: ...
    def transition_execution(self, arn: str, from_statuses: Any, fields: Any,
                             event: Any = None) -> dict[str, Any] | None: ...
    def append_history(self, arn: str, events: Any, *, require_status: str | None = None) -> bool: ...
    def get_state_machine(self, arn: str) -> dict[str, Any] | None: ...
    def insert_execution(self, record: dict[str, Any]) -> bool: ...
    def history_length(self, arn: str) -> int: ...
    def get_checkpoint(self, arn: str) -> str | None: ...
    def set_checkpoint(self, arn: str, checkpoint: str | None) -> None: ...
    def delete_state_machine(self, arn: str) -> None: ...
    def iter_executions(self, state_machine_arn: str) -> Iterator[tuple[Any, dict[str, Any]]]: ...


class ParentBus(Protocol):
    """The messages the parent runner sends."""

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None: ...

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None: ...


class ParentRunner:
    """Advances parent executions with the engine's suspend/resume."""

    def __init__(self, map_runs: MapRunCoordinator, records: ExecutionRecords,
                 bus: ParentBus, callbacks: CallbackWaits | None = None,
                 nested: NestedExecutions | None = None) -> None:
        self.map_runs = map_runs
        #: Callback (.waitForTaskToken) and activity Tasks; None: not wired (unit tests).
        self.callbacks = callbacks
        #: states:startExecution Tasks (their answers are on the callbacks' tokens).
        self.nested = nested
        self.store = map_runs.store
        self.settings = map_runs.deps.settings
        self.records = records
        self.bus = bus
        self._machines: dict[str, StateMachine] = {}

    # -- entry points -------------------------------------------------------------------
    def advance(self, arn: str) -> None:
        """Run the execution as far as it goes now."""
        held = LeaseHeld.acquire(self.store, Lease.ADVANCE, arn, LOCK_MS)
        if held is None:
            # Another control process is advancing it; look again shortly.
            self.bus.send_control(messages.ADVANCE_EXECUTION, arn, countdown=0.5)
            return
        with held:
            started = self.store.begin_advance(arn)
            if started > MAX_ADVANCE_STARTS:
                self._give_up(arn, started - 1)
                return
            try:
                self._apply_redrive(arn)
                self._advance(arn)
            except Exception:
                self.store.end_advance(arn)
                raise
            self.store.end_advance(arn)

    def _give_up(self, arn: str, died: int) -> None:
        """Fail an execution whose advance killed its control process every time."""
        ex = self.records.get_execution(arn)
        if ex is None or ex.get("status") != ExecutionStatus.RUNNING:
            self.store.end_advance(arn)
            return
        log.error("%s: %d advances died with their process; failing it", arn, died)
        self._close(arn, ex, Failed(
            RUNTIME, f"Advancing the execution was started {died} times and its control "
            f"process died each time (the limit is {MAX_ADVANCE_STARTS - 1}); it is not "
            "advanced again.", []))
        self.store.end_advance(arn)

    def sweep(self, *, limit: int = 500) -> int:
        """Resume RUNNING executions that nobody advanced for a while; returns how many.

        The liveness sweep (docs/architecture.md invariant 11): an execution stored by
        StartExecution whose start message was never sent (the API was killed), or whose
        resume message was lost with a killed control worker, is advanced again instead of
        waiting forever or for the broker's redelivery. Advancing is idempotent (the engine
        replays its journal; a wait not answered yet stays waiting), so an execution that
        only waits (a Map Run, a callback) costs one cheap look per interval.
        """
        now = self.map_runs.deps.clock()
        after = self.settings.limits.stranded_execution_seconds
        resumed = 0
        for arn in self.records.stale_open_executions(now - after, limit):
            ex = self.records.get_execution(arn)
            if ex is None or ex.get("status") != ExecutionStatus.RUNNING:
                self.records.drop_open_execution(arn)
                continue
            self.records.touch_open_execution(arn, now)
            if self.store.lease_held(Lease.ADVANCE, arn):
                continue  # being advanced right now
            self.bus.send_control(messages.ADVANCE_EXECUTION, arn)
            resumed += 1
        if resumed:
            log.info("liveness sweep: advanced %d RUNNING executions again", resumed)
        return resumed

    def task_done(self, report: messages.TaskReport) -> None:
        """A parent Task finished on a worker: keep its result, then advance."""
        if self.callbacks is not None and self.callbacks.swallow(report):
            return  # a callback handler returned: the Task waits for its token
        self.store.put_task_result(report.execution_arn, report.sequence,
                                   report.model_dump_json())
        self.advance(report.execution_arn)

    def stopped(self, arn: str) -> None:
        """An execution was stopped (StopExecution, or an EXPRESS time-out).

        A nested ``.sync`` execution answers the Task that waits for it; the ``.sync``
        executions it waits for itself are stopped too (their own stop comes back here).
        """
        if self.nested is not None:
            self.nested.ended(arn)
            self.nested.stop_waited(arn)

    def host_suspended(self, report: messages.ChildrenReport) -> None:
        """Host every child of a report that suspended at a nested Distributed Map."""
        for outcome in report.outcomes:
            if outcome.status == ChildStatus.SUSPENDED:
                self.host_child(report.map_run_arn, outcome)

    def host_child(self, map_run_arn: str, outcome: messages.ChildOutcome) -> None:
        """Take over a child that suspended at a nested Distributed Map on its worker.

        From here the child runs in the control plane like a parent execution; when it ends,
        its outcome is recorded on its own Map Run like any child's.
        """
        run = self.store.get(map_run_arn)
        if run is None or outcome.checkpoint is None:
            return
        arn = run.execution_prefix + outcome.name
        record = {
            "executionArn": arn, "stateMachineArn": run.labelled_arn, "name": outcome.name,
            "status": ExecutionStatus.RUNNING.value, "startDate": outcome.start,
            "input": self.store.child_inputs(map_run_arn, [outcome.index])[0] or "null",
            "redriveCount": 0, "hostedBy": map_run_arn, "childIndex": outcome.index,
            "holder": outcome.holder, "processorKey": run.processor_key,
        }
        if not self.records.insert_execution(record):
            return  # a redelivered report: already hosted
        if outcome.history:
            self.records.append_history(arn, outcome.history)
        self.records.set_checkpoint(arn, json.dumps(outcome.checkpoint))
        # The child keeps its concurrency permit while it waits for its nested Map Run.
        far = int((time.time() + 10 * 365 * 86400) * 1000)
        self.store.hold_permit(map_run_arn, outcome.holder, far)
        self._start_handed_over(arn, Checkpoint.from_dict(outcome.checkpoint))
        self.advance(arn)

    def _start_handed_over(self, arn: str, checkpoint: Checkpoint) -> None:
        """Start the Task calls a child handed over with (callback and activity Tasks)."""
        calls = [(int(c["seq"]), request_from_dict(c["request"]))
                 for c in checkpoint.pending.values()]
        request = None if checkpoint.pending else checkpoint.pending_request()
        if request is not None:
            calls.append((len(checkpoint.entries), request))
        for sequence, call in calls:
            if isinstance(call, TaskRequest):
                self._start(arn, sequence, call, redrive=checkpoint.redrives)

    def stop(self, arn: str) -> None:
        """StopExecution's control half: abort the execution's open Map Runs, then :meth:`stopped`.

        The service ends the execution before it sends this message, so one that finds it
        RUNNING is late: the execution was redriven since (the message was held by a killed
        control worker, or overtaken by the redrive on another control process). Aborting then
        would abort the redriven run, whose parent would fail with ``States.MapRunFailed``.
        """
        ex = self.records.get_execution(arn)
        if ex is not None and ex.get("status") == ExecutionStatus.RUNNING:
            log.warning("a stop message of %s came after its redrive: its Map Runs go on", arn)
            return
        self.map_runs.abort(arn)
        self.stopped(arn)

    def redrive(self, arn: str) -> None:
        """Continue a redriven execution from the call that failed it (spec 3.6).

        The service has already set it RUNNING, raised its ``redriveCount`` and appended
        ExecutionRedriven; the advance applies the redrive (:meth:`_apply_redrive`). Any other
        advance applies it too, so a redrive message lost with a killed control worker is
        applied by the liveness sweep's advance.
        """
        self.advance(arn)

    def _apply_redrive(self, arn: str) -> None:
        """Prepare the journal of a redriven execution, once per redrive (under the lease).

        Pending when the execution's ``redriveCount`` is above the count its checkpoint was
        made for (``Checkpoint.redrives``); the redriven checkpoint carries the new count, so
        the redrive is applied by exactly one advance whatever message brings it. A
        Distributed Map that failed re-uses its Map Run, whose unsuccessful children are
        redriven (a new Map Run starts after States.DataLimitExceeded or States.Runtime, as
        on AWS).
        """
        ex = self.records.get_execution(arn)
        if ex is None or ex.get("status") != ExecutionStatus.RUNNING:
            return
        count = int(ex.get("redriveCount") or 0)
        raw = self.records.get_checkpoint(arn) if count else None
        if raw is None:
            return  # never redriven, or no journal: the engine starts from the beginning
        checkpoint = Checkpoint.from_dict(json.loads(raw))
        if checkpoint.redrives >= count:
            return
        last = checkpoint.entries[-1] if checkpoint.entries else {}
        restart = last.get("k") == "map_result" and last.get("e") in (DATA_LIMIT_EXCEEDED, RUNTIME)
        # Stopped while it waited for its Map Run (the journal ends at the Map Run's start):
        # the aborted Map Run is redriven like a failed one, so its unfinished items run.
        stopped_in_map_run = last.get("k") == "map_start"
        if (last.get("k") == "map_result" and "e" in last and not restart) or stopped_in_map_run:
            map_run_arn = next(e["v"] for e in reversed(checkpoint.entries) if e["k"] == "map_start")
            restart = not self._redrive_map_run(arn, map_run_arn, float(ex.get("redriveDate") or 0))
        redriven = checkpoint.for_redrive(self.records.history_length(arn), restart_map_run=restart)
        redriven.redrives = count
        if last.get("k") == "task" and "e" in last:
            # The failed call is made again with the same number: its old result is not the
            # new call's answer (an advance before the new result would fail it again).
            self.store.forget_task_result(arn, len(redriven.entries))
        self.records.set_checkpoint(arn, json.dumps(redriven.to_dict()))

    def _redrive_map_run(self, arn: str, map_run_arn: str, since: float) -> bool:
        """Redrive the Map Run of a redriven execution; False when it cannot be (start anew).

        An advance that died after redriving it and before saving its checkpoint left it
        redriven (open, or redriven since the execution's redrive): it is not redriven twice.
        """
        run = self.store.get(map_run_arn)
        if run is not None and (run.status.is_open or (run.redrive_date or 0.0) >= since):
            return True
        try:
            count = self.map_runs.redrive(map_run_arn)
        except MapRunNotRedrivable as exc:
            log.warning("%s", exc)
            return False
        length = self.records.history_length(arn)
        self.records.append_history(arn, [{
            "timestamp": time.time(), "type": "MapRunRedriven", "id": length + 1,
            "previousEventId": length,
            "mapRunRedrivenEventDetails": {"mapRunArn": map_run_arn, "redriveCount": count},
        }])
        return True

    # -- internals ----------------------------------------------------------------------
    def _sweep_interval(self) -> float:
        """The longest time until the liveness sweep advances a waiting execution again."""
        return self.settings.limits.stranded_execution_seconds + RECONCILE_EVERY

    def _machine(self, ex: dict[str, Any]) -> StateMachine | None:
        if ex.get("processorKey"):
            definition, machine_type = self.store.processor(ex["processorKey"]), "STANDARD"
        else:
            # definitionArn: the revision snapshot it started with (executions/family.py).
            sm = self.records.get_state_machine(ex.get("definitionArn") or ex["stateMachineArn"])
            definition = sm["definition"] if sm else None
            machine_type = sm.get("type", "STANDARD") if sm else "STANDARD"
        if definition is None:
            return None
        digest = hashlib.sha256(definition.encode()).hexdigest()
        machine = self._machines.get(digest)
        if machine is None:
            machine = parse_definition(definition, machine_type=machine_type)
            self._machines[digest] = machine
        return machine

    def _advance(self, arn: str) -> None:
        ex = self.records.get_execution(arn)
        if ex is None or ex.get("status") != ExecutionStatus.RUNNING:
            return
        try:
            machine = self._machine(ex)
        except InvalidDefinition as exc:  # stored before a rule existed, or unsupported
            self._close(arn, ex, Failed("States.Runtime", str(exc), []))
            return
        if machine is None:
            self._close(arn, ex, Failed("States.Runtime", "the state machine was deleted", []))
            return
        checkpoint: Checkpoint | None = None
        raw = self.records.get_checkpoint(arn)
        if raw:
            checkpoint = Checkpoint.from_dict(json.loads(raw))
            if checkpoint.waiting and not self._resolve(arn, checkpoint):
                return
        ref = parse_execution_arn(arn)
        info = ExecutionInfo(
            execution_arn=arn, name=ref.name, state_machine_arn=ex["stateMachineArn"],
            state_machine_name=ref.machine, start_time=datetime.fromtimestamp(float(ex["startDate"]), UTC),
            redrive_count=int(ex.get("redriveCount") or 0),
            redrive_time=(datetime.fromtimestamp(float(ex["redriveDate"]), UTC)
                          if ex.get("redriveDate") else None),
        )
        ports = Ports(tasks=ControlTaskInvoker(), clock=ControlClock(),
                      map_runner=ControlMapRunner(self.map_runs, arn,
                                                  lambda request: self._binding(arn, request)))
        options = EngineOptions(payload_limit_bytes=self.settings.limits.payload_bytes)
        outcome = run_execution(machine, json.loads(ex["input"]), info, ports,
                                options=options, checkpoint=checkpoint)
        if outcome.events and not self.records.append_history(
            arn, list(outcome.events), require_status=ExecutionStatus.RUNNING
        ):
            return  # stopped meanwhile: StopExecution already closed it
        if isinstance(outcome, Suspended):
            # Made for the execution's current redrive (started anew when it had no journal).
            outcome.checkpoint.redrives = int(ex.get("redriveCount") or 0)
            self.records.set_checkpoint(arn, json.dumps(outcome.checkpoint.to_dict()))
            self._act(arn, outcome)
            return
        self._close(arn, ex, outcome)

    def _close(self, arn: str, ex: dict[str, Any], outcome: Succeeded | Failed) -> None:
        fields: dict[str, Any] = {"stopDate": time.time()}
        fields["status"] = outcome_status(outcome).value
        if isinstance(outcome, Succeeded):
            fields["output"] = dumps(outcome.output)
        else:
            fields.update(error=outcome.error, cause=outcome.cause)
        # Only a RUNNING execution closes: a concurrent StopExecution wins.
        if self.records.transition_execution(arn, {ExecutionStatus.RUNNING.value}, fields) is None:
            return
        # A failed execution keeps its journal: RedriveExecution continues from it.
        failed_at = outcome.checkpoint if isinstance(outcome, Failed) else None
        if failed_at is not None:
            failed_at.redrives = int(ex.get("redriveCount") or 0)
        self.records.set_checkpoint(arn, json.dumps(failed_at.to_dict()) if failed_at else None)
        log.info("execution %s %s", arn, fields["status"])
        if self.nested is not None and ex.get(SYNC_CALL):
            self.nested.ended(arn)
        if ex.get("hostedBy"):
            self._report_hosted(ex, fields)
        else:
            finish_deleting(self.records, ex["stateMachineArn"])

    def _report_hosted(self, ex: dict[str, Any], fields: dict[str, Any]) -> None:
        """A hosted child ended: record it on its Map Run like any child outcome."""
        map_run_arn = ex["hostedBy"]
        outcome = messages.ChildOutcome(
            index=int(ex["childIndex"]), name=ex["name"], holder=ex["holder"],
            status=fields["status"], output=fields.get("output"), error=fields.get("error"),
            cause=fields.get("cause"), start=float(ex["startDate"]), stop=fields["stopDate"],
        )
        self.map_runs.record_outcomes(map_run_arn, [outcome])

    def _resolve(self, arn: str, checkpoint: Checkpoint) -> bool:
        """Answer what the execution waits for, where answers are there; False to keep waiting.

        Branch calls (Parallel, inline Map) are answered one by one, each exactly once
        (``Checkpoint.answer`` ignores a call already answered or cancelled); the execution
        goes on as soon as one of them has its answer.
        """
        if checkpoint.pending:
            progressed = False
            for key, call in list(checkpoint.pending.items()):
                answer = self._answer(arn, int(call["seq"]), request_from_dict(call["request"]),
                                      retime=False, redrive=checkpoint.redrives)
                if answer is not None:
                    progressed |= checkpoint.answer(key, answer.get("v"), error=answer.get("e"),
                                                    cause=answer.get("c") or "")
            return progressed
        request = checkpoint.pending_request()
        if request is None:
            return False
        answer = self._answer(arn, len(checkpoint.entries), request, retime=True,
                              redrive=checkpoint.redrives)
        if answer is None:
            return False
        if "e" in answer:
            checkpoint.reject(answer["e"], answer.get("c") or "")
        else:
            checkpoint.resolve(answer.get("v"))
        return True

    def _binding(self, arn: str, request: DistributedMapRequest) -> MapRunBinding:
        """The rate limits and pools of this Map Run: the state machine's stepmap tags, and
        the execution's explicit binding over them (docs/limits.md)."""
        ex = self.records.get_execution(arn) or {}
        sm = self.records.get_state_machine(ex.get("stateMachineArn") or "") if ex else None
        try:
            binding = binding_from_tags((sm or {}).get("tags") or [], request.state_name)
        except BindingError as exc:
            raise StatesError(RUNTIME, str(exc)) from None
        explicit = ex.get(REQUEST_FIELD)  # StartExecution's stepmapBinding, checked there
        return with_request(binding, json.loads(explicit)) if explicit else binding

    def _answer(self, arn: str, sequence: int, request: Request, *, retime: bool,
                redrive: int = 0) -> dict[str, Any] | None:
        """The answer to one request in journal form (``{"v"}`` / ``{"e", "c"}``), or None.

        ``sequence`` names the call's Task result; ``retime``: a Wait not due yet asks for an
        advance when it is (branch waits only when their own timer came early); ``redrive``:
        the execution's redrive the waiting call belongs to.
        """
        if isinstance(request, TaskRequest):
            if self.callbacks is not None and messages.waits_for_answer(request.resource):
                # Answered on its token only (a redriven call's old result is not its answer).
                # Its timers hold even when their messages were lost with a killed worker.
                self.callbacks.enforce(arn, sequence, rearm_within=self._sweep_interval())
                raw = self.callbacks.answer_of(arn, sequence)
            else:
                raw = self.store.get_task_result(arn, sequence)
            if raw is None:
                if not runs_in_control_plane(request.resource) and \
                        self.store.task_sent(arn, sequence) != redrive:
                    # The advance that saved this wait died before it sent the call (we hold
                    # the advance lease, so it is not sending it right now): send it now.
                    log.warning("%s: call %d was never sent; sending it", arn, sequence)
                    self._start(arn, sequence, request, redrive=redrive, again=True)
                return None
            report = messages.TaskReport.model_validate_json(raw)
            if report.ok:
                return {"v": report.result}
            return {"e": report.error or "States.TaskFailed", "c": report.cause or ""}
        if isinstance(request, WaitRequest):
            remaining = (request.until - datetime.now(UTC)).total_seconds()
            if remaining > 0:
                if retime or remaining <= 1.0:
                    self.bus.send_control(messages.ADVANCE_EXECUTION, arn, countdown=remaining)
                return None
            return {"v": None}
        if isinstance(request, DistributedMapRequest):
            try:
                return {"v": self.map_runs.start(request, arn, self._binding(arn, request))}
            except StatesError as exc:  # bound to a pool that does not exist, a bad tag
                return {"e": exc.error, "c": exc.cause}
        if isinstance(request, MapRunResultRequest):
            try:
                ended = self.map_runs.result(request.map_run_arn)
            except LookupError:
                return None
            if ended is None:
                return None
            if ended.status is MapRunStatus.SUCCEEDED:
                return {"v": ended.result}
            return {"e": ended.error, "c": ended.cause}
        return None

    def _act(self, arn: str, outcome: Suspended) -> None:
        """Start what the execution now waits for: every branch call handed out for the first
        time (``Suspended.fresh``), or the single pending request."""
        checkpoint = outcome.checkpoint
        if checkpoint.pending:
            for key in outcome.fresh:
                call = checkpoint.pending[key]
                self._start(arn, int(call["seq"]), request_from_dict(call["request"]),
                            redrive=checkpoint.redrives)
            return
        self._start(arn, len(checkpoint.entries), outcome.request, redrive=checkpoint.redrives)

    def _start(self, arn: str, sequence: int, request: Request, *, redrive: int = 0,
               again: bool = False) -> None:
        """Start one call the execution waits for.

        A Task call the broker carries to a worker is marked sent once the broker took it, so
        that a control process that died between saving the checkpoint and sending leaves it
        unmarked and the next advance sends it (``again``) — once: that advance holds the
        lease and marks it too. (Nested executions are started by the control plane itself.)
        """
        if isinstance(request, TaskRequest) and self.nested is not None and \
                runs_in_control_plane(request.resource):
            self.nested.start(arn, sequence, request)
        elif isinstance(request, TaskRequest) and self.callbacks is not None and \
                messages.waits_for_answer(request.resource):
            self.callbacks.start(arn, sequence, request, again=again)
            self.store.mark_task_sent(arn, sequence, redrive)
        elif isinstance(request, TaskRequest):
            invocation = messages.TaskInvocation(
                execution_arn=arn, sequence=sequence, request=request.to_dict()
            )
            self.bus.send_task_invocation(invocation)
            self.store.mark_task_sent(arn, sequence, redrive)
        elif isinstance(request, WaitRequest):
            remaining = max(0.0, (request.until - datetime.now(UTC)).total_seconds())
            self.bus.send_control(messages.ADVANCE_EXECUTION, arn, countdown=remaining)
        # MapRunResultRequest: the Map Run sends ADVANCE_EXECUTION when it closes.

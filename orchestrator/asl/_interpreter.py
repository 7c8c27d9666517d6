"""The interpreter: runs a parsed state machine on one input through the ports.

``run_execution`` is pure and synchronous. It returns ``Succeeded``, ``Failed`` or
``Suspended``; a suspended run resumes by replaying its journal (see ``_journal``), so
the same run may span several processes.

Decisions on points the spec leaves open (each one has a test):

- ``States.Runtime`` is never retried or caught, not even when named explicitly; its cause
  gets AWS's prefix ``An error occurred while executing the state '{name}' (entered at the
  event id #{n}). `` once, by the state that raised it.
- ``States.DataLimitExceeded`` is matched only by its exact name; ``States.TaskFailed`` as a
  matcher matches every other error except ``States.Timeout``.
- A Choice without match and Default fails with ``States.NoChoiceMatched``, cause
  ``No Matches!``.
- A path that selects nothing: ``Invalid path '$.x' : No results for path: $['x']``; a
  ResultPath that cannot be applied: ``Unable to apply ReferencePath $.x to input {...}``.
- The execution timeout is checked before each state and caps every wait; it ends the
  execution with ``ExecutionTimedOut`` (``Failed(..., timed_out=True)``), uncatchable. A Task
  that runs too long is the invoker's business (it knows the TaskRequest's timeouts).
- A Distributed Map emits ``MapStateStarted`` before resolving its ``...Path`` fields, as the
  observed history of a path-config failure shows; a negative ``MaxItemsPath`` value is
  passed to the Map Run, which fails with ``States.ItemReaderFailed`` (observed).
- Event timestamps come from ``clock.now()`` without journaling (replayed events are not
  rebuilt); times that reach data (``$$.State.EnteredTime``, Wait and Retry targets, the
  deadline check) are journaled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.asl._fork import Blocked
from orchestrator.asl._history import NOT_TRUNCATED
from orchestrator.asl._io import compact, error_details
from orchestrator.asl._journal import Checkpoint, Journal
from orchestrator.asl._outcome import Failed, Outcome, Succeeded, Suspended
from orchestrator.asl._runtime import Cursor, Fatal
from orchestrator.asl._states_compound import CompoundStates
from orchestrator.asl._states_simple import Step
from orchestrator.asl.errors import StatesError
from orchestrator.asl.model import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from orchestrator.asl.ports import EngineOptions, ExecutionInfo, Pending, Ports

_DEFAULT_OPTIONS = EngineOptions()


class Execution(CompoundStates):
    """One run of a state machine (fresh or resumed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runners: dict[type, Callable[[Any, Any, Cursor], Step]] = {
            PassState: self.run_pass,
            TaskState: self.run_task,
            ChoiceState: self.run_choice,
            WaitState: self.run_wait,
            SucceedState: self.run_succeed,
            FailState: self.run_fail,
            ParallelState: self.run_parallel,
            MapState: self.run_map,
        }
        self._runners = runners

    def run_states(self, machine: StateMachine, data: Any, cur: Cursor) -> Any:
        """Run ``machine`` from StartAt until a terminal state; return the output."""
        states = machine.states
        runners = self._runners
        name: str | None = machine.start_at
        check = self.deadline is not None
        while name is not None:
            state: State = states[name]
            if check:
                self.check_deadline()
            data, name = runners[type(state)](state, data, cur)
        return data

    def run(self) -> Any:
        """Run the whole execution; returns the output or raises StatesError / Pending."""
        cur = self.cur
        if self.history:
            self.emit(
                cur,
                "ExecutionStarted",
                "executionStartedEventDetails",
                {
                    "input": compact(self.execution_input),
                    "inputDetails": NOT_TRUNCATED,
                    "roleArn": self.info.role_arn,
                },
            )
        else:
            self.eid += 1
        return self.run_states(self.machine, self.execution_input, cur)


def run_execution(
    machine: StateMachine,
    input: Any,
    info: ExecutionInfo,
    ports: Ports,
    *,
    options: EngineOptions | None = None,
    checkpoint: Checkpoint | None = None,
) -> Outcome:
    """Run (or resume) one execution of ``machine``.

    Args:
        machine: the parsed state machine.
        input: the execution input (ignored when resuming: the checkpoint holds it).
        info: what the context object shows about the execution.
        ports: task invoker, clock, map runner, random source.
        options: payload limit, history switch, history limit.
        checkpoint: resume a suspended run from this checkpoint (after ``resolve``).

    Returns:
        ``Succeeded(output, events)``, ``Failed(error, cause, events)`` or
        ``Suspended(checkpoint, request, events)``; ``events`` holds only events not handed
        out by earlier calls for the same execution.
    """
    opts = options if options is not None else _DEFAULT_OPTIONS
    if checkpoint is not None:
        execution_input = checkpoint.input
        journal = Journal(list(checkpoint.entries))
        skip_until = checkpoint.last_event_id
    else:
        execution_input = input
        journal = Journal()
        skip_until = 0
    run = Execution(machine, execution_input, info, ports, opts, journal, skip_until)
    floors = checkpoint.floors if checkpoint is not None else []
    if floors:
        # Redrive: from the redriven call on, events continue the stored history.
        journal.jumps = {pos: floor for pos, floor in floors}
        run.redo = []
        journal.on_jump = run.redo_since_call
    try:
        output = run.run()
    except Blocked as blocked:
        return _suspend_calls(run, journal, execution_input, checkpoint, floors, blocked)
    except Pending as pending:
        suspended = Checkpoint(
            input=execution_input,
            entries=journal.entries,
            last_event_id=max(run.eid, skip_until),
            pending_kind=journal.in_flight,
            request=pending.request.to_dict(),
            floors=floors,
            redrives=checkpoint.redrives if checkpoint is not None else 0,
        )
        return Suspended(suspended, pending.request, run.events)
    except StatesError as exc:
        timed_out = isinstance(exc, Fatal) and exc.timed_out
        kind = "ExecutionTimedOut" if timed_out else "ExecutionFailed"
        details_key = (
            "executionTimedOutEventDetails"
            if timed_out
            else "executionFailedEventDetails"
        )
        run.emit(
            run.cur,
            kind,
            details_key,
            error_details(exc.error, exc.cause) if run.history else None,
            final=True,
        )
        failed_at = Checkpoint(
            input=execution_input,
            entries=journal.entries,
            last_event_id=max(run.eid, skip_until),
            floors=floors,
            redrives=checkpoint.redrives if checkpoint is not None else 0,
        )
        return Failed(exc.error, exc.cause, run.events, timed_out, failed_at)
    run.emit(
        run.cur,
        "ExecutionSucceeded",
        "executionSucceededEventDetails",
        {"output": compact(output), "outputDetails": NOT_TRUNCATED}
        if run.history
        else None,
        final=True,
    )
    return Succeeded(output, run.events)


def _suspend_calls(
    run: Execution,
    journal: Journal,
    execution_input: Any,
    checkpoint: Checkpoint | None,
    floors: list[list[int]],
    blocked: Blocked,
) -> Suspended:
    """Suspend with several pending calls (branches and iterations waiting at once).

    Each call keeps the number it got when it was first handed out; ``Suspended.fresh``
    lists the calls handed out for the first time (the ones the caller must start).
    """
    old = checkpoint.pending if checkpoint is not None else {}
    calls = checkpoint.calls if checkpoint is not None else 0
    pending: dict[str, dict[str, Any]] = {}
    fresh: list[str] = []
    for key, kind, request in blocked.calls:
        prior = old.get(key)
        if prior is not None:
            seq = int(prior["seq"])
        else:
            calls += 1
            seq = -calls
            fresh.append(key)
        pending[key] = {"kind": kind, "request": request.to_dict(), "seq": seq}
    suspended = Checkpoint(
        input=execution_input,
        entries=journal.entries,
        last_event_id=max(run.eid, run.skip_until),
        floors=floors,
        pending=pending,
        calls=calls,
        redrives=checkpoint.redrives if checkpoint is not None else 0,
    )
    return Suspended(suspended, blocked.calls[0][2], run.events, fresh=tuple(fresh))

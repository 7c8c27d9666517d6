"""Shared machinery of one execution run: event ids, history, context object, ports.

:class:`ExecutionBase` holds the per-run state; the state runners (``_interpreter``,
``_states_compound``) build on it. Hot paths avoid work when it is not needed: with
history off no event dict is built (ids are still counted, because AWS's States.Runtime
causes name the id of the state's entered event); the context object is built only for
states whose paths or templates read ``$$``.
"""

from __future__ import annotations

import random as _random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.asl._history import ENTERED, EXITED, NOT_TRUNCATED
from orchestrator.asl._intrinsics import RANDOM_SOURCE_KEY
from orchestrator.asl._io import (
    apply_result,
    compact,
    data_limit,
    payload_too_large,
    runtime_prefix,
)
from orchestrator.asl._journal import Journal, JournaledRandom
from orchestrator.asl._jsonata import JsonataTemplate
from orchestrator.asl._paths import PRIVATE_PREFIX, VARIABLES_KEY
from orchestrator.asl._template import Template
from orchestrator.asl._variables import Variables
from orchestrator.asl._timestamps import format_timestamp
from orchestrator.asl.errors import RUNTIME, TIMEOUT, StatesError
from orchestrator.asl.model import MapState, ParallelState, State, StateMachine, TaskState
from orchestrator.asl.ports import EngineOptions, ExecutionInfo, Ports

if TYPE_CHECKING:
    from orchestrator.asl._fork import StrandIds
    from orchestrator.asl.ports import RequestPool

#: Key under which the context mapping carries the journaled random source for the
#: UUID/MathRandom intrinsics (see _intrinsics).
RANDOM_KEY = RANDOM_SOURCE_KEY


class Fatal(StatesError):
    """An error no Retry or Catch may handle: a prefixed States.Runtime, the execution
    timeout, the history limit. It ends the execution."""

    def __init__(self, error: str, cause: str, *, timed_out: bool = False) -> None:
        super().__init__(error, cause)
        self.timed_out = timed_out


class Cursor:
    """The id of the last event of one thread of events (previousEventId of the next)."""

    __slots__ = ("prev",)

    def __init__(self, prev: int) -> None:
        self.prev = prev


class ExecutionBase:
    """Per-run state and helpers shared by all state runners."""

    def __init__(
        self,
        machine: StateMachine,
        execution_input: Any,
        info: ExecutionInfo,
        ports: Ports,
        options: EngineOptions,
        journal: Journal,
        skip_until: int,
    ) -> None:
        self.machine = machine
        self.execution_input = execution_input
        self.info = info
        self.ports = ports
        self.options = options
        self.journal = journal
        self.limit = options.payload_limit_bytes
        self.history = options.history
        self.events: list[dict[str, Any]] = []
        self.eid = 0
        self.skip_until = skip_until
        self.deadline: datetime | None = None
        if machine.timeout_seconds is not None:
            self.deadline = info.start_time + timedelta(seconds=machine.timeout_seconds)
        self.cur = Cursor(0)
        #: Redrive replay: events counted but not handed out since the current state was
        #: entered, as ``(journal actions so far, event, cursor)``; see :meth:`redo_since_call`.
        self.redo: list[tuple[int, dict[str, Any], Cursor]] | None = None
        self._exec_ctx: dict[str, Any] | None = None
        self._random: JournaledRandom | None = None
        # Workflow variables (spec 5.6), created on first use so that a run without any
        # variable pays nothing. Replay recomputes them: no checkpoint field is needed.
        self._variables: Variables | None = None
        #: Event ids of the branch or iteration running now (see ``_fork``), else None.
        self.strand: StrandIds | None = None
        #: The pool running branch calls concurrently, while a fork drives one.
        self.pool: RequestPool | None = None

    # -- history --------------------------------------------------------------------------

    def emit(
        self,
        cur: Cursor,
        kind: str,
        key: str | None = None,
        details: Any = None,
        *,
        final: bool = False,
    ) -> int:
        """Count an event and, with history on, record it (unless replaying past events).

        ``final`` marks the closing Execution* event, which may go past the history limit.
        """
        if self.strand is not None:
            return self._strand_emit(cur, kind, key, details)
        self.eid += 1
        eid = self.eid
        if self.history and eid > self.skip_until:
            if eid > self.options.max_history_events and not final:
                raise Fatal(
                    RUNTIME,
                    "The execution history exceeded the limit of "
                    f"{self.options.max_history_events} events.",
                )
            self.events.append(self._event(cur, kind, key, details, eid))
        elif self.redo is not None and self.history:
            self.redo.append((self.journal.acts, self._event(cur, kind, key, details, eid), cur))
        cur.prev = eid
        return eid

    def _strand_emit(self, cur: Cursor, kind: str, key: str | None, details: Any) -> int:
        """``emit`` inside a branch or iteration: a replayed event keeps its recorded id and
        is not emitted again; a new one gets the next id after all handed out."""
        strand = self.strand
        assert strand is not None
        i = strand.n
        strand.n = i + 1
        ids = strand.ids
        if i < len(ids):
            eid = ids[i]
            cur.prev = eid
            return eid
        eid = self.eid
        if eid < self.skip_until:
            eid = self.skip_until
        eid += 1
        self.eid = eid
        ids.append(eid)
        if self.history:
            if eid > self.options.max_history_events:
                raise Fatal(
                    RUNTIME,
                    "The execution history exceeded the limit of "
                    f"{self.options.max_history_events} events.",
                )
            self.events.append(self._event(cur, kind, key, details, eid))
        cur.prev = eid
        return eid

    def _event(self, cur: Cursor, kind: str, key: str | None, details: Any, eid: int) -> dict[str, Any]:
        event: dict[str, Any] = {
            "timestamp": self.ports.clock.now().timestamp(),
            "type": kind,
            "id": eid,
            "previousEventId": cur.prev,
        }
        if key is not None:
            event[key] = details
        return event

    def redo_since_call(self, floor: int, kind: str) -> None:
        """A redrive reached the call that failed: continue the history after ``floor``.

        The events the replay counted since the last action (Task call, wait, Map Run start)
        and within the current state (its ``...StateEntered``, ``TaskScheduled``,
        ``TaskStarted`` ...; not a failed earlier attempt) happen again, so they are given ids
        after the stored history, as the state runs again. A redriven Map Run (``map_result``)
        is not started again: its state just goes on after ``MapRunRedriven``.
        """
        self.eid = max(self.eid, floor)
        if self.redo is None:
            return
        if kind == "map_result":
            self.redo.clear()
            return
        pos = self.journal.acts
        renumbered: dict[int, int] = {}
        for at, event, cur in self.redo:
            if at != pos:
                continue
            self.eid += 1
            renumbered[event["id"]] = self.eid
            event["id"] = self.eid
            event["previousEventId"] = renumbered.get(event["previousEventId"],
                                                      event["previousEventId"])
            if self.eid > self.skip_until:
                self.events.append(event)
            cur.prev = self.eid
        self.redo.clear()

    def entered(self, cur: Cursor, state: State, data: Any) -> int:
        """``<Type>StateEntered``; returns its id."""
        if self.redo is not None:
            self.redo.clear()
        if not self.history:
            if self.strand is not None:
                return self._strand_emit(cur, "", None, None)
            self.eid += 1
            cur.prev = self.eid
            return self.eid
        return self.emit(
            cur,
            ENTERED[state.type],
            "stateEnteredEventDetails",
            {"name": state.name, "input": compact(data), "inputDetails": NOT_TRUNCATED},
        )

    def exited(
        self,
        cur: Cursor,
        state: State,
        output: Any,
        assigned: dict[str, str] | None = None,
    ) -> None:
        """``<Type>StateExited``; ``assigned`` (name -> compact JSON) adds AWS's
        ``assignedVariables`` and ``assignedVariablesDetails`` details."""
        if not self.history:
            if self.strand is not None:
                self._strand_emit(cur, "", None, None)
                return
            self.eid += 1
            cur.prev = self.eid
            return
        details: dict[str, Any] = {
            "name": state.name,
            "output": compact(output),
            "outputDetails": NOT_TRUNCATED,
        }
        if assigned:
            details["assignedVariables"] = assigned
            details["assignedVariablesDetails"] = NOT_TRUNCATED
        self.emit(cur, EXITED[state.type], "stateExitedEventDetails", details)

    # -- variables ------------------------------------------------------------------------

    @property
    def variables(self) -> Variables:
        """The variable scopes of this run (spec 5.6)."""
        variables = self._variables
        if variables is None:
            variables = self._variables = Variables()
        return variables

    def finish_attempt(
        self,
        st: TaskState | ParallelState | MapState,
        raw: Any,
        result: Any,
        ctx: dict[str, Any] | None,
        cur: Cursor,
    ) -> Any:
        """The end of a successful Task / Parallel / Map attempt: ResultSelector, ResultPath
        and OutputPath, the payload limit, Assign (``$`` is ``result``, spec 5.3 step 7) and
        the Exited event. Returns the state output."""
        out = apply_result(st.io, raw, result, ctx)
        if payload_too_large(out, self.limit):
            raise data_limit(st.name)
        assigned = None
        if st.assign is not None:
            assigned = self.assign(
                st, (st.assign,), result, ctx, states={"input": raw, "result": result}
            )
        self.exited(cur, st, out, assigned)
        return out

    def assign(
        self,
        state: State,
        templates: tuple[Template | JsonataTemplate | None, ...],
        data: Any,
        ctx: dict[str, Any] | None,
        *,
        states: dict[str, Any] | None = None,
    ) -> dict[str, str] | None:
        """Evaluate ``Assign`` templates against ``data`` (``$``) and write the variables.

        Every template is evaluated before anything is written (values at state entry, spec
        5.6); a later template's names win over an earlier one's (a Choice rule's Assign
        over the state's). Returns ``assignedVariables`` for the Exited event, or None.
        A JSONata Assign reads ``states`` (by default ``$states.input`` is ``data``).

        Raises:
            Runtime: a path selected nothing; DataLimitExceeded: a size limit.
        """
        values: dict[str, Any] = {}
        for template in templates:
            if template is None:
                continue
            if ctx is None and template.uses_context:
                ctx = self.context(state.name, self.now())
            if isinstance(template, JsonataTemplate):
                result = template.evaluate_states(
                    states if states is not None else {"input": data}, ctx
                )
            else:
                result = template.evaluate(data, ctx)
            if isinstance(result, dict):
                values.update(result)
        if not values:
            return None
        return self.variables.commit(values)

    # -- errors ---------------------------------------------------------------------------

    @staticmethod
    def fix(exc: StatesError, state: State, entered_id: int) -> StatesError:
        """Give a States.Runtime raised by this state AWS's prefix and make it fatal."""
        if exc.error == RUNTIME and not isinstance(exc, Fatal):
            fatal = Fatal(RUNTIME, runtime_prefix(state.name, entered_id) + exc.cause)
            fatal.__cause__ = exc
            return fatal
        return exc

    # -- ports ----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The clock's time, journaled (used where time influences data)."""
        value = self.journal.call("now", lambda: self.ports.clock.now().isoformat())
        return datetime.fromisoformat(value)

    def random_source(self) -> JournaledRandom:
        """The journaled random source (Retry jitter, UUID/MathRandom intrinsics)."""
        if self._random is None:
            source = (
                self.ports.random if self.ports.random is not None else _random.Random()
            )
            self._random = JournaledRandom(self.journal, source)
        return self._random

    def check_deadline(self) -> None:
        """Fail with States.Timeout once the execution's TimeoutSeconds have passed."""
        if self.deadline is not None and self.now() >= self.deadline:
            raise self.timed_out()

    def timed_out(self) -> Fatal:
        """The execution-timeout error."""
        seconds = self.machine.timeout_seconds
        return Fatal(
            TIMEOUT, f"The execution timed out after {seconds} seconds.", timed_out=True
        )

    def wait(self, state_name: str, until: datetime) -> None:
        """Wait (journaled) until ``until``, or until the execution deadline then time out."""
        deadline = self.deadline
        if deadline is not None and until >= deadline:
            self.journal.call(
                "wait", lambda: self.ports.clock.wait_until(state_name, deadline)
            )
            raise self.timed_out()
        self.journal.call(
            "wait", lambda: self.ports.clock.wait_until(state_name, until)
        )

    # -- context object -------------------------------------------------------------------

    def execution_context(self) -> dict[str, Any]:
        """The Execution and StateMachine parts of the context object (built once)."""
        if self._exec_ctx is None:
            info = self.info
            execution: dict[str, Any] = {
                "Id": info.execution_arn,
                "Input": self.execution_input,
                "Name": info.name,
                "RoleArn": info.role_arn,
                "StartTime": format_timestamp(info.start_time),
                "RedriveCount": info.redrive_count,
            }
            if info.redrive_time is not None:
                execution["RedriveTime"] = format_timestamp(info.redrive_time)
            self._exec_ctx = {
                "Execution": execution,
                "StateMachine": {
                    "Id": info.state_machine_arn,
                    "Name": info.state_machine_name,
                },
            }
        return self._exec_ctx

    def context(
        self,
        state_name: str,
        entered_time: datetime,
        retry_count: int | None = 0,
        *,
        task_token: str | None = None,
        map_item: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The context object (``$$``) for one state; ``retry_count`` None leaves
        ``State.RetryCount`` out (Pass states, observed on AWS)."""
        base = self.execution_context()
        ctx: dict[str, Any] = {
            "Execution": base["Execution"],
            "State": {
                "EnteredTime": format_timestamp(entered_time),
                "Name": state_name,
            },
            "StateMachine": base["StateMachine"],
            RANDOM_KEY: self.random_source(),
            VARIABLES_KEY: self.variables.current,
        }
        if retry_count is not None:
            ctx["State"]["RetryCount"] = retry_count
        if task_token is not None:
            ctx["Task"] = {"Token": task_token}
        if map_item is not None:
            ctx["Map"] = {"Item": map_item}
        return ctx

    @staticmethod
    def public_context(ctx: dict[str, Any]) -> dict[str, Any]:
        """The context without private keys (what requests carry)."""
        return {k: v for k, v in ctx.items() if not k.startswith(PRIVATE_PREFIX)}

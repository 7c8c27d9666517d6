"""Callback and activity Tasks in the control plane: start the wait, enforce its timers.

A parent execution (or a Map Run child handed over to the control plane) that reaches a Task
with a ``.waitForTaskToken`` or activity resource suspends like for any Task. Starting the call
registers its task token in the :class:`~orchestrator.store.callbacks.CallbackStore`, then

* for ``.waitForTaskToken``: the handler runs on a worker as usual; its successful return only
  means the token was handed out, so its report is not the Task's result
  (:meth:`CallbackWaits.swallow`); a handler failure fails the Task;
* for an activity: the token joins the activity's queue for ``GetActivityTask``.

The answer (SendTaskSuccess/Failure from the API, or a timer here) is stored on the token and
the execution is advanced; :meth:`CallbackWaits.answer_of` gives the parent runner the answer.
Timers are delayed ``callback_timer`` control messages; a due timer re-reads the token, so a
heartbeat that came meanwhile just moves the timer on.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Protocol

from orchestrator import messages
from orchestrator.asl import TaskRequest
from orchestrator.jsontext import dumps
from orchestrator.store.callbacks import CallbackStore, TokenRecord, report_json

HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"


class CallbackBus(Protocol):
    """The messages a callback wait sends."""

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None: ...

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None: ...


def task_token(request: TaskRequest) -> str | None:
    """The token the engine put in the context (``$$.Task.Token``) of a callback Task."""
    task = request.context.get("Task")
    token = task.get("Token") if isinstance(task, dict) else None
    return token if isinstance(token, str) else None


def due(record: TokenRecord, now: float) -> tuple[str | None, float | None]:
    """What a token's timers say at ``now``: (error now due, or None; seconds to the next check).

    ``TimeoutSeconds`` counts from the start of the call, ``HeartbeatSeconds`` from the last
    heartbeat (or the start, or the moment an activity worker took the task).
    """
    deadlines: list[tuple[float, str]] = []
    if record.timeout:
        deadlines.append((record.created + record.timeout, TIMEOUT))
    if record.heartbeat:
        deadlines.append((record.last_beat + record.heartbeat, HEARTBEAT_TIMEOUT))
    if not deadlines:
        return None, None
    first, error = min(deadlines)
    if first <= now:
        return error, None
    return None, first - now


class CallbackWaits:
    """Starts token waits, answers timers, and reads answers for the parent runner."""

    def __init__(self, store: CallbackStore, bus: CallbackBus) -> None:
        self.store = store
        self.bus = bus

    def start(self, arn: str, sequence: int, request: TaskRequest, *,
              again: bool = False) -> None:
        """Start a callback or activity call (idempotent per call: a replay sends nothing).

        ``again``: the call was registered but maybe never sent (its control process died in
        between): send it all the same, under the token it was registered with.
        """
        activity = request.resource if messages.is_activity_resource(request.resource) else None
        token = task_token(request) or f"{uuid.uuid4().hex}{uuid.uuid4().hex}"
        input_text = dumps(request.parameters) if activity else None
        if not self.store.register(token, arn, sequence, state_name=request.state_name,
                                   timeout=request.timeout_seconds,
                                   heartbeat=request.heartbeat_seconds, activity_arn=activity,
                                   input_text=input_text):
            registered = self.store.token_of_call(arn, sequence) if again else None
            if registered is None:
                return
            token = registered
        else:
            self.schedule(token, request.timeout_seconds, request.heartbeat_seconds)
        if activity is not None:
            if self.store.get_activity(activity) is None:
                self.settle(token, arn, sequence, "States.Runtime",
                             f"Activity '{activity}' does not exist")
                return
            self.store.offer(activity, token)
        else:
            self.bus.send_task_invocation(messages.TaskInvocation(
                execution_arn=arn, sequence=sequence, request=request.to_dict()))

    def swallow(self, report: messages.TaskReport) -> bool:
        """Whether a worker's report of a callback handler is not the Task's result.

        A handler that returned only handed the token out; the Task waits on. A handler that
        failed fails the Task: its token is answered with the failure (False: store it too).
        """
        token = self.store.token_of_call(report.execution_arn, report.sequence)
        if token is None:
            return False
        if report.ok:
            return True
        self.store.answer(token, report.model_dump_json())
        return False

    def answer_of(self, arn: str, sequence: int) -> str | None:
        """The TaskReport JSON answering a waiting call, once it is answered."""
        return self.store.answer_of_call(arn, sequence)

    def enforce(self, arn: str, sequence: int, *, rearm_within: float,
                now: float | None = None) -> None:
        """Apply the timers of a waiting call without waiting for its timer message.

        Timer messages are delayed messages that a control worker holds until they are due; a
        worker killed meanwhile takes them along (until the broker's visibility timeout, an
        hour). Every advance of the execution, the liveness sweep's included, therefore times
        out a call whose deadline passed, and sends a timer again when the deadline comes
        within ``rearm_within`` seconds (a spare timer finds the call answered and does
        nothing). The caller advances the execution, so no advance is sent here.
        """
        token = self.store.token_of_call(arn, sequence)
        record = self.store.get(token) if token is not None else None
        if token is None or record is None or record.answer is not None:
            return
        error, later = due(record, time.time() if now is None else now)
        if error is not None:
            self.store.answer(token, report_json(arn, sequence, error=error,
                                                 cause=_timed_out(error, record.state_name)))
        elif later is not None and later <= rearm_within:
            self.bus.send_control(messages.CALLBACK_TIMER, token, countdown=later)

    def timer(self, token: str, now: float | None = None) -> None:
        """A timer of ``token`` is due: time the call out, or look again later."""
        record = self.store.get(token)
        if record is None or record.answer is not None:
            return
        error, later = due(record, time.time() if now is None else now)
        if error is not None:
            self.settle(token, record.execution_arn, record.sequence, error,
                        _timed_out(error, record.state_name))
        elif later is not None:
            self.bus.send_control(messages.CALLBACK_TIMER, token, countdown=later)

    def schedule(self, token: str, timeout: int | None, heartbeat: int | None) -> None:
        """Send the first timer of a call that has TimeoutSeconds or HeartbeatSeconds."""
        first = min((s for s in (timeout, heartbeat) if s), default=None)
        if first is not None:
            self.bus.send_control(messages.CALLBACK_TIMER, token, countdown=float(first))

    def settle(self, token: str, arn: str, sequence: int, error: str, cause: str) -> None:
        """Answer a token with a failure and advance its execution (first answer wins)."""
        if self.store.answer(token, report_json(arn, sequence, error=error, cause=cause)):
            self.bus.send_control(messages.ADVANCE_EXECUTION, arn)


def _timed_out(error: str, state_name: str) -> str:
    """The cause of a call timed out with ``error``."""
    what = "heartbeat" if error == HEARTBEAT_TIMEOUT else "task"
    return f"The {what} of Task '{state_name}' timed out"

"""Runners of the simple states: Pass, Choice, Wait, Succeed, Fail, and Task with Retry/Catch.

Each runner takes the raw state input and a :class:`Cursor`, emits the state's events and
returns ``(output, next state name or None)``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from orchestrator.asl._history import task_events
from orchestrator.asl._io import (
    apply_input_path,
    apply_output_path,
    apply_result,
    catch_output,
    compact,
    data_limit,
    effective_input,
    error_output_of,
    payload_too_large,
    select,
    show_value,
    task_result_too_large,
)
from orchestrator.asl._jsonata import (
    JsonataTemplate,
    QueryEvaluationError,
    resolve_number,
    unexpected_type,
)
from orchestrator.asl._runtime import Cursor, ExecutionBase, Fatal
from orchestrator.asl._timestamps import parse_timestamp
from orchestrator.asl.errors import (
    HEARTBEAT_TIMEOUT,
    TIMEOUT,
    NoChoiceMatched,
    Runtime,
    StatesError,
)
from orchestrator.asl.model import (
    Catcher,
    ChoiceState,
    FailState,
    PassState,
    Retrier,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from orchestrator.asl.ports import TaskRequest

Step = tuple[Any, "str | None"]

#: Upper bounds of Wait Seconds and of Task TimeoutSeconds/HeartbeatSeconds (spec 5.2).
MAX_WAIT_SECONDS = 99_999_999
MAX_TASK_SECONDS = 99_999_999


class SimpleStates(ExecutionBase):
    """Pass, Choice, Wait, Succeed, Fail, Task and the Retry/Catch loop."""

    # -- Retry / Catch ---------------------------------------------------------------------

    def with_retry(
        self,
        state: State,
        retriers: tuple[Retrier, ...],
        catchers: tuple[Catcher, ...],
        raw: Any,
        cur: Cursor,
        entered_id: int,
        attempt: Callable[[int], Any],
    ) -> Step:
        """Run ``attempt(retry_count)`` until it succeeds, a retrier gives up, or Catch applies.

        Spec 4.3: the first retrier whose ErrorEquals matches decides; once it gives up the
        error goes to the catchers (a later retrier is not consulted). Counting follows the
        AWS guide's "complex retry scenario" (errors A, B, C, B, B on retriers [A, B] x2 and
        [C]: waits 1, 2, 5, 4, then Catch): MaxAttempts bounds the retries of each error
        name within a retrier, while the backoff exponent grows with all of the retrier's
        retries in this run of the state.
        """
        counters = [0] * len(retriers)
        per_error: list[dict[str, int]] = [{} for _ in retriers]
        retry_count = 0
        while True:
            try:
                return attempt(retry_count), state.next
            except StatesError as raised:
                exc = self.fix(raised, state, entered_id)
                if isinstance(exc, Fatal):
                    raise exc
                retried = False
                for i, retrier in enumerate(retriers):
                    if retrier.matches(exc.error):
                        seen = per_error[i].get(exc.error, 0)
                        if seen < retrier.max_attempts:
                            per_error[i][exc.error] = seen + 1
                            counters[i] += 1
                            self.retry_delay(state.name, retrier, counters[i])
                            retry_count += 1
                            retried = True
                        break
                if retried:
                    continue
                for catcher in catchers:
                    if catcher.matches(exc.error, matched_by_all=exc.matched_by_all):
                        assigned = None
                        try:
                            if state.io.jsonata:
                                output, assigned = self._catch_jsonata(state, catcher, raw, exc)
                                self.exited(cur, state, output, assigned)
                                return output, catcher.next
                            output = catch_output(
                                catcher.result_path, catcher.result_discard, raw, exc
                            )
                            if catcher.assign is not None:
                                # Catch Assign: $ is the error output; written to the scope
                                # of the state that caught (spec 5.6).
                                assigned = self.assign(
                                    state, (catcher.assign,), error_output_of(exc), None
                                )
                        except StatesError as bad:
                            raise self.fix(bad, state, entered_id) from None
                        self.exited(cur, state, output, assigned)
                        return output, catcher.next
                raise exc from None

    def _catch_jsonata(
        self, state: State, catcher: Catcher, raw: Any, exc: StatesError
    ) -> tuple[Any, dict[str, str] | None]:
        """A JSONata Catch: ``Output`` (default: the error output) and ``Assign``, both with
        ``$states.input`` and ``$states.errorOutput`` (spec 5.6)."""
        error_output = error_output_of(exc)
        states = {"input": raw, "errorOutput": error_output}
        ctx = self.context(state.name, self.now())
        output = error_output
        if catcher.output is not None:
            output = catcher.output.evaluate_states(states, ctx)
        assigned = None
        if catcher.assign is not None:
            assigned = self.assign(state, (catcher.assign,), error_output, ctx, states=states)
        return output, assigned

    def retry_delay(self, state_name: str, retrier: Retrier, attempt: int) -> None:
        """Sleep (through the clock) before retry number ``attempt`` of ``retrier``."""
        delay = retrier.delay(attempt)
        if retrier.jitter_strategy == "FULL":
            delay *= self.random_source().random()
        if delay <= 0:
            return
        self.wait(state_name, self.now() + timedelta(seconds=delay))

    # -- Pass -----------------------------------------------------------------------------

    def run_pass(self, st: PassState, raw: Any, cur: Cursor) -> Step:
        """Pass: Result or the (Parameters-processed) input, then ResultPath/OutputPath."""
        entered = self.entered(cur, st, raw)
        io = st.io
        try:
            ctx = self.context(st.name, self.now(), None) if io.uses_context else None
            if st.has_result:
                if io.input_path is not None:  # InputPath errors still surface
                    apply_input_path(io, raw, ctx)
                result = st.result
            else:
                result = effective_input(io, raw, ctx)
            out = apply_result(io, raw, result, ctx, selector=False)
            if out is not raw and payload_too_large(out, self.limit):
                raise data_limit(st.name)
            assigned = None
            if st.assign is not None:  # $ is the Pass result (spec 5.3 step 7)
                assigned = self.assign(st, (st.assign,), result, ctx, states={"input": raw})
        except StatesError as exc:
            raise self.fix(exc, st, entered) from None
        self.exited(cur, st, out, assigned)
        return out, st.next

    # -- Choice ---------------------------------------------------------------------------

    def run_choice(self, st: ChoiceState, raw: Any, cur: Cursor) -> Step:
        """Choice: the first matching rule's Next, else Default, else States.NoChoiceMatched."""
        entered = self.entered(cur, st, raw)
        io = st.io
        try:
            ctx = self.context(st.name, self.now()) if io.uses_context else None
            data = apply_input_path(io, raw, ctx)
            target = st.default
            rule_assign = None
            rule_output = None
            for branch in st.choices:
                if branch.rule.matches(data, ctx):
                    target = branch.next
                    rule_assign = branch.assign
                    rule_output = branch.output
                    break
            if target is None:
                # AWS's observed cause for a Choice without a match and without Default.
                raise NoChoiceMatched("No Matches!")
            if rule_output is not None:  # a JSONata rule's own Output wins (decision)
                out = rule_output.evaluate(data, ctx)
            else:
                out = apply_output_path(io, data, ctx)
            assigned = None
            if st.assign is not None or rule_assign is not None:
                # $ is the effective input; the matched rule's Assign is applied after the
                # state's, so its names win (decision, unverified).
                assigned = self.assign(st, (st.assign, rule_assign), data, ctx)
        except StatesError as exc:
            raise self.fix(exc, st, entered) from None
        self.exited(cur, st, out, assigned)
        return out, target

    # -- Wait -----------------------------------------------------------------------------

    def run_wait(self, st: WaitState, raw: Any, cur: Cursor) -> Step:
        """Wait: Seconds, Timestamp, SecondsPath or TimestampPath, through the clock."""
        entered = self.entered(cur, st, raw)
        io = st.io
        try:
            ctx = self.context(st.name, self.now()) if io.uses_context else None
            data = apply_input_path(io, raw, ctx)
            if st.seconds is not None:
                seconds = resolve_number(st.seconds, data, ctx, high=MAX_WAIT_SECONDS)
                until = self.now() + timedelta(seconds=seconds)
            elif isinstance(st.timestamp, JsonataTemplate):
                until = self._timestamp(st.timestamp, data, ctx)
            elif st.timestamp is not None:
                until = st.timestamp
            elif st.seconds_path is not None:
                value = select(st.seconds_path, data, ctx)
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or (isinstance(value, float) and not value.is_integer())
                ):
                    raise Runtime(
                        f"The SecondsPath parameter does not reference a valid integer: "
                        f'{st.seconds_path.text} (value "{show_value(value)}")'
                    )
                if value < 0:
                    raise Runtime(
                        f"The SecondsPath parameter references a negative value: "
                        f"{st.seconds_path.text} (value {show_value(value)})"
                    )
                until = self.now() + timedelta(seconds=int(value))
            else:
                assert st.timestamp_path is not None
                value = select(st.timestamp_path, data, ctx)
                stamp = parse_timestamp(value) if isinstance(value, str) else None
                if stamp is None:
                    raise Runtime(
                        "The TimestampPath parameter does not reference a valid ISO-8601 "
                        f"extended offset date-time format string: {st.timestamp_path.text} "
                        f'(value "{show_value(value)}")'
                    )
                until = stamp
            out = apply_output_path(io, data, ctx)
            assigned = None
            if st.assign is not None:  # $ is the effective input (spec 5.3 step 7)
                assigned = self.assign(st, (st.assign,), data, ctx)
        except StatesError as exc:
            raise self.fix(exc, st, entered) from None
        self.wait(st.name, until)
        self.exited(cur, st, out, assigned)
        return out, st.next

    @staticmethod
    def _timestamp(template: JsonataTemplate, data: Any, ctx: Any) -> datetime:
        value = template.evaluate(data, ctx)
        stamp = parse_timestamp(value) if isinstance(value, str) else None
        if stamp is None:
            if not isinstance(value, str):
                raise unexpected_type(template, value, "string")
            raise QueryEvaluationError(
                f"The JSONata expression '{template.raw[2:-2].strip()}' specified for the field "
                f"'Timestamp' returned the value {compact(value)}, which is not a valid ISO-8601 "
                "extended offset date-time format string."
            )
        return stamp

    # -- Succeed / Fail -------------------------------------------------------------------

    def run_succeed(self, st: SucceedState, raw: Any, cur: Cursor) -> Step:
        """Succeed: ends this (sub-)machine with its processed input."""
        entered = self.entered(cur, st, raw)
        io = st.io
        try:
            ctx = self.context(st.name, self.now()) if io.uses_context else None
            out = apply_output_path(io, apply_input_path(io, raw, ctx), ctx)
        except StatesError as exc:
            raise self.fix(exc, st, entered) from None
        self.exited(cur, st, out)
        return out, None

    def run_fail(self, st: FailState, raw: Any, cur: Cursor) -> Step:
        """Fail: raises the state's Error/Cause (static or from ErrorPath/CausePath)."""
        entered = self.entered(cur, st, raw)
        try:
            ctx = None
            if (st.error_path is not None or st.cause_path is not None
                    or isinstance(st.error, JsonataTemplate)
                    or isinstance(st.cause, JsonataTemplate)):
                ctx = self.context(st.name, self.now())
            error = self._fail_text(st.error, raw, ctx, "Error")
            cause = self._fail_text(st.cause, raw, ctx, "Cause")
            if st.error_path is not None:
                error = self._fail_field(st.error_path, raw, ctx, "ErrorPath")
            if st.cause_path is not None:
                cause = self._fail_field(st.cause_path, raw, ctx, "CausePath")
        except StatesError as exc:
            raise self.fix(exc, st, entered) from None
        # A Fail state's error is an ordinary error: an enclosing Parallel/Map may catch it.
        raise StatesError(
            error if error is not None else "", cause if cause is not None else ""
        )

    @staticmethod
    def _fail_text(value: Any, raw: Any, ctx: Any, field_name: str) -> str | None:
        if not isinstance(value, JsonataTemplate):
            return value if value is None or isinstance(value, str) else str(value)
        text = value.evaluate(raw, ctx)
        if not isinstance(text, str):
            raise unexpected_type(value, text, "string")
        return text

    @staticmethod
    def _fail_field(expr: Any, raw: Any, ctx: Any, field_name: str) -> str:
        from orchestrator.asl._paths import JsonPath, PathNotFound

        if isinstance(expr, JsonPath):
            try:
                value = expr.find(raw, ctx)
            except PathNotFound:
                raise Runtime(
                    f"The JSONPath '{expr.text}' specified for the field '{field_name}' could "
                    f"not be found in the input '{compact(raw)}'"
                ) from None
        else:
            value = expr.evaluate(raw, ctx)
        if not isinstance(value, str):
            raise Runtime(
                f'The {field_name} field refers to value "{show_value(value)}" which is not a '
                "valid string"
            )
        return value

    # -- Task -----------------------------------------------------------------------------

    def run_task(self, st: TaskState, raw: Any, cur: Cursor) -> Step:
        """Task: invoke the resource through the TaskInvoker, with Retry and Catch."""
        entered = self.entered(cur, st, raw)
        entered_time = self.now()
        kinds = task_events(st.resource, self.info.state_machine_arn)
        callback = st.resource.endswith(".waitForTaskToken")

        def attempt(retry_count: int) -> Any:
            token = None
            if callback:
                token = base64.urlsafe_b64encode(
                    f"{self.info.execution_arn}#{entered}#{retry_count}".encode()
                ).decode()
            ctx = self.context(st.name, entered_time, retry_count, task_token=token)
            io = st.io
            # The ...SecondsPath fields read the input after InputPath (like Parameters).
            data = apply_input_path(io, raw, ctx)
            params = (
                io.parameters.evaluate(data, ctx) if io.parameters is not None else data
            )
            if payload_too_large(params, self.limit):
                raise data_limit(st.name)
            timeout = self._seconds(
                resolve_number(st.timeout_seconds, data, ctx, low=1, high=MAX_TASK_SECONDS),
                st.timeout_seconds_path,
                data,
                ctx,
                "TimeoutSecondsPath",
            )
            heartbeat = self._seconds(
                resolve_number(st.heartbeat_seconds, data, ctx, low=1, high=MAX_TASK_SECONDS),
                st.heartbeat_seconds_path,
                data,
                ctx,
                "HeartbeatSecondsPath",
            )
            request = TaskRequest(
                state_name=st.name,
                resource=st.resource,
                parameters=params,
                timeout_seconds=timeout,
                heartbeat_seconds=heartbeat,
                context=self.public_context(ctx),
            )
            if self.history:
                self.emit(
                    cur,
                    kinds.prefix + "Scheduled",
                    kinds.details_key("Scheduled"),
                    kinds.scheduled(compact(params), timeout, heartbeat),
                )
                started = kinds.started()
                self.emit(
                    cur,
                    kinds.prefix + "Started",
                    kinds.details_key("Started") if started is not None else None,
                    started,
                )
            elif self.strand is not None:
                self.emit(cur, "")
                self.emit(cur, "")
            else:
                self.eid += 2
            invoker = self.ports.tasks
            try:
                result = self.journal.call("task", lambda: invoker.invoke(request))
                if payload_too_large(result, self.limit):
                    raise task_result_too_large(st.resource, params)
            except StatesError as exc:
                suffix = (
                    "TimedOut"
                    if exc.error in (TIMEOUT, HEARTBEAT_TIMEOUT)
                    else "Failed"
                )
                self.emit(
                    cur,
                    kinds.prefix + suffix,
                    kinds.details_key(suffix),
                    kinds.failed(exc.error, exc.cause) if self.history else None,
                )
                raise
            self.emit(
                cur,
                kinds.prefix + "Succeeded",
                kinds.details_key("Succeeded"),
                kinds.succeeded(compact(result)) if self.history else None,
            )
            return self.finish_attempt(st, raw, result, ctx, cur)  # $: the task result

        return self.with_retry(st, st.retry, st.catch, raw, cur, entered, attempt)

    @staticmethod
    def _seconds(
        literal: int | None, path: Any, raw: Any, ctx: Any, field_name: str
    ) -> int | None:
        if path is None:
            return literal
        value = select(path, raw, ctx)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise Runtime(
                f'The {field_name} field refers to value "{show_value(value)}" which is not a '
                f"valid positive integer: {path.text}"
            )
        return value


__all__ = ["SimpleStates", "Step"]

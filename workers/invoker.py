"""Runs Task states on a worker: Lambda-style resources resolved to registered handlers.

Supported resources:

* ``arn:aws:states:::lambda:invoke`` — ``Parameters.FunctionName`` names the handler,
  ``Parameters.Payload`` is the event; the result has Lambda's invoke shape
  (``Payload``, ``StatusCode``, ``ExecutedVersion``, ``SdkHttpMetadata``, ...), so
  ``OutputPath: $.Payload`` works as on AWS.
* ``arn:aws:lambda:{region}:{account}:function:{name}[:qualifier]`` — the handler's result
  is the Task result, as on AWS.
* ``arn:aws:states:::http:invoke`` and ``arn:aws:states:::aws-sdk:s3:<action>`` — the
  integrations of :mod:`workers.integrations`, where the settings enable them.

A handler exception fails the Task the way Lambda reports it: error = the exception's class
name (or :class:`HandlerError`'s ``error``), cause = Lambda's JSON error document
(``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``: the handler's innermost frames,
bounded by :mod:`workers.stack_trace`; the full trace is in the worker's log).

Concurrency. The invoker is stateless, so threads may share it. For the Parallel branches
and inline Map iterations of a child workflow, the engine opens a :class:`ThreadPool`
(``open_pool``) and submits every waiting Task and Wait at once; each runs in its own thread.

TimeoutSeconds. In the main thread a handler is interrupted by SIGALRM. Elsewhere (pool
threads) the handler runs in a helper thread that the caller waits for with a timeout; when
the timeout passes the Task fails with ``States.Timeout`` at once, but the handler itself
goes on in the background until it returns: a Python thread cannot be killed, so a handler
that never returns keeps its thread (and whatever it holds) for the life of the process.
Its late result is dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from orchestrator.asl import StatesError, TaskRequest, WaitRequest
from orchestrator.asl import errors as asl_errors
from orchestrator.asl.ports import Clock, Request
from orchestrator.jsontext import dumps
from workers.integrations import WorkerIntegrations
from workers.handlers.registry import HandlerContext, HandlerError, UnknownHandler, resolve
from workers.stack_trace import lambda_stack_trace

log = logging.getLogger(__name__)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_LAMBDA_ARN_PREFIX = "arn:aws:lambda:"
_UNKNOWN_FUNCTION = "Lambda.ResourceNotFoundException"


class _TaskTimedOut(BaseException):
    """Raised inside a handler by the timeout alarm (BaseException: handlers must not catch it)."""


class WorkerTaskInvoker:
    """The engine's TaskInvoker on a worker: calls registered handlers synchronously."""

    def __init__(self, *, region: str = "us-east-1", account_id: str = "000000000000",
                 integrations: WorkerIntegrations | None = None) -> None:
        self.region = region
        self.account_id = account_id
        #: The HTTP Task and aws-sdk:s3 (workers/integrations), as the settings enable them.
        self.integrations = integrations if integrations is not None else WorkerIntegrations()

    def invoke(self, request: TaskRequest) -> Any:
        """Run the Task; return its raw result or raise :class:`StatesError`."""
        resource = request.resource
        if self.integrations.handles(resource):
            return self.integrations.invoke(request)
        if resource == LAMBDA_INVOKE or resource.startswith(LAMBDA_INVOKE + "."):
            params = request.parameters if isinstance(request.parameters, dict) else {}
            function_name = params.get("FunctionName")
            if not isinstance(function_name, str):
                raise StatesError(
                    asl_errors.TASK_FAILED,
                    f"Task '{request.state_name}': Parameters.FunctionName must be a string, "
                    f"got {json.dumps(function_name)}",
                )
            payload = params.get("Payload", {})
            result = self._call(function_name, payload, request)
            return {
                "ExecutedVersion": "$LATEST",
                "Payload": result,
                "SdkHttpMetadata": {
                    "AllHttpHeaders": {"Content-Type": ["application/json"]},
                    "HttpHeaders": {"Content-Type": "application/json"},
                    "HttpStatusCode": 200,
                },
                "SdkResponseMetadata": {"RequestId": str(uuid.uuid4())},
                "StatusCode": 200,
            }
        if resource.startswith(_LAMBDA_ARN_PREFIX):
            return self._call(resource, request.parameters, request)
        raise StatesError(
            asl_errors.TASK_FAILED,
            f"Task '{request.state_name}': resource {resource!r} is not supported by stepmap "
            f"workers; use {LAMBDA_INVOKE!r} or a Lambda function ARN naming a registered handler",
        )

    def _call(self, function_name: str, event: Any, request: TaskRequest) -> Any:
        try:
            name, _qualifier, fn = resolve(function_name)
        except UnknownHandler as exc:
            raise StatesError(_UNKNOWN_FUNCTION, str(exc)) from exc
        context = HandlerContext(
            function_name=name,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
        )
        timeout = request.timeout_seconds
        if timeout:
            context.deadline_monotonic = time.monotonic() + timeout
        try:
            if timeout and threading.current_thread() is not threading.main_thread():
                return _call_with_deadline(fn, event, context, float(timeout))
            with _alarm(timeout):
                return fn(event, context)
        except _TaskTimedOut:
            raise StatesError(
                asl_errors.TIMEOUT, f"Task '{request.state_name}' timed out after {timeout} seconds"
            ) from None
        except HandlerError as exc:
            raise StatesError(exc.error, exc.cause) from exc
        except StatesError:
            raise
        except Exception as exc:  # noqa: BLE001 - every handler failure becomes a Task failure
            log.warning("handler %s failed", name, exc_info=True)
            error_type = type(exc).__name__
            cause = dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": error_type,
                    "requestId": context.aws_request_id,
                    "stackTrace": lambda_stack_trace(exc),
                }
            )
            raise StatesError(error_type, cause) from exc


    def open_pool(self, clock: Clock) -> ThreadPool:
        """A pool that runs the calls of one Parallel or inline Map state in threads."""
        return ThreadPool(self, clock)


class ThreadPool:
    """The engine's RequestPool on a worker: one thread per Task or Wait, answers in a queue.

    A call still running when the pool closes (its branch was cancelled, or the engine is
    done) goes on in its thread; its answer is dropped.
    """

    def __init__(self, invoker: WorkerTaskInvoker, clock: Clock) -> None:
        self.invoker = invoker
        self.clock = clock
        self._answers: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self._closed = threading.Event()

    def submit(self, key: str, request: Request) -> bool:
        """Start a Task or a Wait in a thread; False for anything else (a Map Run)."""
        target: Callable[[str, Any], None]
        if isinstance(request, TaskRequest):
            target = self._task
        elif isinstance(request, WaitRequest):
            target = self._wait
        else:
            return False
        threading.Thread(target=target, args=(key, request), daemon=True,
                         name=f"stepmap-call-{key}").start()
        return True

    def wait(self) -> list[tuple[str, dict[str, Any]]]:
        """Block until one answer is in; return it with any others already there."""
        answers = [self._answers.get()]
        while True:
            try:
                answers.append(self._answers.get_nowait())
            except queue.Empty:
                return answers

    def close(self) -> None:
        """Drop the answers of calls still running."""
        self._closed.set()

    def _task(self, key: str, request: TaskRequest) -> None:
        try:
            answer: dict[str, Any] = {"v": self.invoker.invoke(request)}
        except StatesError as exc:
            answer = {"e": exc.error, "c": exc.cause}
        except Exception as exc:  # noqa: BLE001 - the engine must get an answer
            log.exception("task %s crashed its thread", request.state_name)
            answer = {"e": asl_errors.TASK_FAILED, "c": f"{type(exc).__name__}: {exc}"}
        if not self._closed.is_set():
            self._answers.put((key, answer))

    def _wait(self, key: str, request: WaitRequest) -> None:
        delay = (request.until - self.clock.now()).total_seconds()
        if delay > 0 and self._closed.wait(delay):
            return
        if not self._closed.is_set():
            self._answers.put((key, {"v": None}))


def _call_with_deadline(fn: Any, event: Any, context: HandlerContext, timeout: float) -> Any:
    """Run ``fn`` in a helper thread and wait at most ``timeout`` seconds for it.

    Raises _TaskTimedOut when the time is up; the helper thread cannot be stopped and runs
    on in the background (its result is dropped).
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = fn(event, context)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name="stepmap-handler").start()
    if not done.wait(timeout):
        raise _TaskTimedOut()
    if "error" in box:
        raise box["error"]
    return box["result"]


@contextlib.contextmanager
def _alarm(seconds: int | None) -> Iterator[None]:
    """Raise _TaskTimedOut in the handler after ``seconds`` (main thread only)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise _TaskTimedOut()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

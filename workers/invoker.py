"""Runs Task states on a worker: Lambda-style resources resolved to registered handlers.

Supported resources:

* ``arn:aws:states:::lambda:invoke`` — ``Parameters.FunctionName`` names the handler,
  ``Parameters.Payload`` is the event; the result has Lambda's invoke shape
  (``Payload``, ``StatusCode``, ``ExecutedVersion``, ``SdkHttpMetadata``, ...), so
  ``OutputPath: $.Payload`` works as on AWS.
* ``arn:aws:lambda:{region}:{account}:function:{name}[:qualifier]`` — the handler's result
  is the Task result, as on AWS.

A handler exception fails the Task the way Lambda reports it: error = the exception's class
name (or :class:`HandlerError`'s ``error``), cause = Lambda's JSON error document
(``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``; the stack trace stays in the
worker's log, never in the cause).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from orchestrator.asl import StatesError, TaskRequest
from orchestrator.asl import errors as asl_errors
from orchestrator.jsontext import dumps
from workers.handlers.registry import HandlerContext, HandlerError, UnknownHandler, resolve

log = logging.getLogger(__name__)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_LAMBDA_ARN_PREFIX = "arn:aws:lambda:"
_UNKNOWN_FUNCTION = "Lambda.ResourceNotFoundException"


class _TaskTimedOut(BaseException):
    """Raised inside a handler by the timeout alarm (BaseException: handlers must not catch it)."""


class WorkerTaskInvoker:
    """The engine's TaskInvoker on a worker: calls registered handlers synchronously."""

    def __init__(self, *, region: str = "us-east-1", account_id: str = "000000000000") -> None:
        self.region = region
        self.account_id = account_id

    def invoke(self, request: TaskRequest) -> Any:
        """Run the Task; return its raw result or raise :class:`StatesError`."""
        resource = request.resource
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
                    "stackTrace": [],
                }
            )
            raise StatesError(error_type, cause) from exc


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

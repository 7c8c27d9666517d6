"""The request guard: what every request passes before any route sees it.

In this order, answering in the error shape of the request's face:

1. authentication from the headers alone (the body is not read for a refused request): a
   token, or a SigV4 signature's key and scope; the signature itself covers the payload and is
   checked right after the size-bounded body is read;
2. the body's size against ``api.max_request_bytes`` (``Content-Length`` first, then the
   bytes actually received, so a chunked upload cannot exceed it either);
3. a non-empty body of a write method must be strict JSON
   (:mod:`orchestrator.executions.jsontext`): no ``NaN``/``Infinity``, no number overflowing a
   double, no lone surrogate, at most :data:`~orchestrator.executions.jsontext.MAX_DEPTH`
   levels deep;
4. any exception a route lets escape becomes the face's error (503 when Redis is unreachable)
   instead of a dropped connection or a body in the other face's shape.

The face is the AWS JSON 1.0 one for ``/`` (except ``GET /``, a browser sent on to the
console) and any request carrying ``X-Amz-Target``, the ``/v1`` one otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.auth import check_aws, check_rest
from orchestrator.api.errors import error_response, lookup
from orchestrator.executions import jsontext
from orchestrator.executions.errors import (
    InvalidExecutionInput,
    RequestTooLarge,
    SerializationException,
    ServiceError,
    ValidationException,
    validation_message,
)
from orchestrator.settings import Settings

logger = logging.getLogger(__name__)

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNGUARDED = ("/healthz", "/docs", "/redoc", "/openapi.json")


def is_aws_face(scope: Scope) -> bool:
    """Whether a request belongs to the AWS JSON 1.0 face (``/`` or ``X-Amz-Target``)."""
    if scope.get("path") == "/":
        # GET / is a browser opening the API: it is sent to the console, not the AWS protocol.
        return scope.get("method") != "GET"
    return any(name == b"x-amz-target" for name, _ in scope.get("headers", ()))


class _TooLarge(Exception):
    pass


def refused_json(exc: jsontext.JsonRefused, *, aws_face: bool) -> ServiceError:
    """The client error for a body that is not acceptable JSON, naming the member."""
    if exc.problem.startswith("not valid JSON"):
        message = f"Request body is not valid JSON: {exc.problem[len('not valid JSON: '):]}"
        return (SerializationException(message) if aws_face
                else ValidationException(validation_message(message)))
    member = exc.where.lstrip("/").split("/", 1)[0]
    field = exc.where.lstrip("/").replace("/", ".") or "body"
    if member == "input":
        return InvalidExecutionInput(
            f"Invalid State Machine Execution Input: '{exc.problem}' (field '{field}')"
        )
    return ValidationException(
        validation_message(f"Value at '{field}' failed to satisfy constraint: {exc.problem}")
    )


class RequestGuard:
    """Pure ASGI middleware applying the checks of this module's docstring.

    Args:
        app: the application to guard.
        settings: ``api.auth_enabled``, ``api.tokens`` and ``api.max_request_bytes``.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(_UNGUARDED):
            await self.app(scope, receive, send)
            return
        aws_face = is_aws_face(scope)
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            replay = await self._admit(scope, receive, aws_face)
            await self.app(scope, replay, tracked_send)
        except Exception as exc:
            if started:
                raise  # the response is on its way: nothing sensible can be added
            status, _ = lookup(exc)
            if status >= 500:
                logger.exception("error answered with %s", status, exc_info=exc)
            await error_response(exc, aws_face=aws_face)(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive, aws_face: bool) -> Receive:
        """Run checks 1-3; the ``receive`` that replays the body already read."""
        connection = HTTPConnection(scope)
        verify_body = None
        if aws_face:
            verify_body = check_aws(connection, self.settings)
        elif scope.get("path", "").startswith("/v1"):
            check_rest(connection, self.settings)
        limit = self.settings.api.max_request_bytes
        declared = connection.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(limit)
        if scope.get("method") not in _WRITE_METHODS:
            return receive
        try:
            body, connected = await _read_body(receive, limit)
        except _TooLarge:
            raise self._too_large(limit) from None
        if verify_body is not None:
            verify_body(body)  # a SigV4 signature covers the payload
        if body.strip():
            try:
                jsontext.loads(body)
            except jsontext.JsonRefused as exc:
                raise refused_json(exc, aws_face=aws_face) from None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive() if connected else {"type": "http.disconnect"}

        return replay

    @staticmethod
    def _too_large(limit: int) -> RequestTooLarge:
        return RequestTooLarge(
            validation_message(
                f"Value at 'body' failed to satisfy constraint: Request body must have length "
                f"less than or equal to {limit} bytes (api.max_request_bytes)"
            )
        )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, at most ``limit`` bytes; (body, whether the client is still connected)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True

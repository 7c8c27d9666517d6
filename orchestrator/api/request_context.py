"""Binds each request's id and the ARN in its path to the log context (logging_context).

The request id is the client's ``X-Request-Id`` when it sends a short one, else a new UUID;
it is echoed in the response's ``X-Request-Id``. Pure ASGI middleware: it does not buffer
bodies and works for every route.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.logging_context import bound

HEADER = b"x-request-id"
_ARN = re.compile(r"arn:aws:states:[^/?#]*:(execution|mapRun):[^?#]+")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _arns(path: str) -> dict[str, str | None]:
    match = _ARN.search(path)
    if match is None:
        return {}
    arn = match.group(0).removesuffix("/").split("/history")[0].split("/map-runs")[0]
    for suffix in ("/stop", "/redrive", "/state-machine", "/executions", "/failures"):
        arn = arn.removesuffix(suffix)
    return {"map_run_arn" if match.group(1) == "mapRun" else "execution_arn": arn}


class RequestContextMiddleware:
    """Sets ``request_id`` (and an execution or Map Run ARN from the path) for the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request inside the bound context; add ``X-Request-Id`` to the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER, b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else str(uuid.uuid4())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers") or [])
                headers.append((HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        with bound(request_id=request_id, **_arns(str(scope.get("path", "")))):
            await self.app(scope, receive, send_with_id)

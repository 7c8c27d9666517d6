"""Bearer-token authentication (``api.auth_enabled``, ``api.tokens``).

/v1 face: ``Authorization: Bearer <token>``.

AWS JSON face: AWS SDKs put a SigV4 signature in ``Authorization``; it is verified against
``api.access_keys`` (:mod:`orchestrator.api.sigv4`), so the aws CLI and any SDK work with
their usual credentials. The AWS face also accepts a token in an ``X-Stepmap-Token: <token>``
header (or ``Authorization: Bearer``); with boto3, add the header in a ``before-sign`` event
handler::

    def add_token(request, **_):
        request.headers["X-Stepmap-Token"] = token

    client.meta.events.register("before-sign.states.*", add_token)

When auth is disabled, every request passes. When it is enabled with no tokens configured,
every request is refused (fail closed).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request
from starlette.requests import HTTPConnection
from fastapi.security import HTTPBearer

from orchestrator.api import sigv4
from orchestrator.executions.errors import Unauthorized
from orchestrator.settings import Settings

TOKEN_HEADER = "X-Stepmap-Token"
TARGET_PREFIX = "AWSStepFunctions."

#: Shown in the OpenAPI document; the check itself is :func:`require_token`.
bearer_scheme = HTTPBearer(auto_error=False, description="A token from api.tokens")


def _token_ok(settings: Settings, token: str | None) -> bool:
    if not token:
        return False
    given = token.encode()
    accepted = (
        getattr(secret, "get_secret_value", lambda s=secret: s)() for secret in settings.api.tokens
    )
    return any(hmac.compare_digest(given, str(secret).encode()) for secret in accepted)


def _bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def check_rest(request: HTTPConnection, settings: Settings) -> None:
    """Raise :class:`Unauthorized` unless the /v1 request carries a valid bearer token."""
    if settings.api.auth_enabled and not _token_ok(settings, _bearer(request)):
        raise Unauthorized("Missing or invalid bearer token")


def aws_operation(request: HTTPConnection) -> str:
    """The operation an AWS-face request names in ``X-Amz-Target`` ("" when none)."""
    target = request.headers.get("x-amz-target", "")
    return target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""


def check_aws(request: HTTPConnection, settings: Settings) -> Callable[[bytes], None] | None:
    """Raise unless the AWS-face request carries a valid token or a SigV4 signature's headers.

    Runs before the body is read: a token is checked whole; for a SigV4 ``Authorization`` the
    key must be one of ``api.access_keys`` and its scope must cover the operation. The
    signature itself covers the payload, so for a signed request this returns the check of the
    body (see :mod:`orchestrator.api.sigv4`), to call once the (size-bounded) body is read.
    """
    if not settings.api.auth_enabled:
        return None
    if _token_ok(settings, request.headers.get(TOKEN_HEADER)) or _token_ok(
        settings, _bearer(request)
    ):
        return None
    header = request.headers.get("authorization", "")
    if settings.api.access_keys and sigv4.is_sigv4(header):
        key = sigv4.signing_key(sigv4.parse_authorization(header), settings.api.access_keys)
        sigv4.authorize(key, aws_operation(request))

        def verify_body(body: bytes) -> None:
            sigv4.verify(
                method=request.scope.get("method", "POST"), path=request.url.path,
                query=request.url.query, headers=request.headers, body=body,
                keys=settings.api.access_keys, region=settings.api.region,
            )

        return verify_body
    raise Unauthorized("The security token included in the request is invalid.")


async def require_token(request: Request) -> None:
    """FastAPI dependency of the /v1 routers."""
    check_rest(request, request.app.state.settings)

"""One table from exception class to (HTTP status, AWS error code), and the error bodies.

The class is looked up along the exception's MRO, so a new subclass of a listed error inherits
its status. The AWS error code is the table's, or, for entries that leave it empty, the
exception's own ``code`` attribute (every :class:`ServiceError` has one).

HTTP statuses apply to the /v1 face. The AWS JSON 1.0 face answers every client error with 400
(as AWS does; botocore reads the code from ``__type``) and internal errors with 500.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from kombu.exceptions import OperationalError as BrokerUnreachable
from pydantic import ValidationError
from starlette.responses import JSONResponse

from orchestrator.executions import errors as e
from orchestrator.store.connect import UNAVAILABLE

#: Content type of the AWS JSON 1.0 protocol.
AWS_CONTENT_TYPE = "application/x-amz-json-1.0"
#: Shown for 503 answers: the cause is infrastructure, the remedy is to retry.
UNAVAILABLE_MESSAGE = (
    "Service unavailable: the state store or the broker (Redis) cannot be reached; "
    "retry the request later"
)

ERROR_TABLE: dict[type[BaseException], tuple[int, str]] = {
    e.ServiceError: (400, ""),
    e.InvalidDefinition: (400, "InvalidDefinition"),
    e.InvalidName: (400, "InvalidName"),
    e.InvalidArn: (400, "InvalidArn"),
    e.InvalidExecutionInput: (400, "InvalidExecutionInput"),
    e.InvalidToken: (400, "InvalidToken"),
    e.ValidationException: (400, "ValidationException"),
    e.StateMachineTypeNotSupported: (400, "StateMachineTypeNotSupported"),
    e.ExecutionNotRedrivable: (400, "ExecutionNotRedrivable"),
    e.StateMachineDeleting: (409, "StateMachineDeleting"),
    e.ExecutionLimitExceeded: (429, "ExecutionLimitExceeded"),
    e.StateMachineDoesNotExist: (404, "StateMachineDoesNotExist"),
    e.ExecutionDoesNotExist: (404, "ExecutionDoesNotExist"),
    e.ResourceNotFound: (404, "ResourceNotFound"),
    e.StateMachineAlreadyExists: (409, "StateMachineAlreadyExists"),
    e.ExecutionAlreadyExists: (409, "ExecutionAlreadyExists"),
    e.UnknownOperation: (400, "UnknownOperationException"),
    e.SerializationException: (400, "SerializationException"),
    e.Unauthorized: (401, "UnrecognizedClientException"),
    e.RequestTooLarge: (413, "ValidationException"),
    e.UnknownRoute: (404, "UnknownOperationException"),
    e.MethodNotAllowed: (405, "UnknownOperationException"),
    **{unavailable: (503, "ServiceUnavailable") for unavailable in UNAVAILABLE},
    BrokerUnreachable: (503, "ServiceUnavailable"),
    RequestValidationError: (400, "ValidationException"),
    ValidationError: (400, "ValidationException"),
    Exception: (500, "InternalFailure"),
}


def lookup(exc: BaseException) -> tuple[int, str]:
    """(HTTP status, AWS error code) of an exception, by the first MRO class in the table."""
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            status, code = ERROR_TABLE[cls]
            return status, code or str(getattr(exc, "code", "InternalFailure"))
    return 500, "InternalFailure"


def message_of(exc: BaseException) -> str:
    """The client-facing message (internal errors reveal nothing)."""
    if isinstance(exc, e.ServiceError):
        return exc.message
    if lookup(exc)[0] == 503:
        return UNAVAILABLE_MESSAGE
    if lookup(exc)[0] >= 500:
        return "An internal error occurred"
    return str(exc)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def translate_validation(errors: list[Any], aws_face: bool) -> e.ServiceError:
    """A pydantic/FastAPI validation error list as a service error naming every field.

    Missing members become ``ValidationException`` (AWS: ``Member must not be null``). Members
    of the wrong JSON type become ``SerializationException`` on the AWS face (as AWS answers
    for wrongly typed JSON) and ``ValidationException`` on the /v1 face.
    """
    violations: list[str] = []
    wrong_types: list[str] = []
    for error in errors:
        field = _field(error.get("loc", ()))
        if error.get("type") == "missing":
            violations.append(
                f"Value null at '{field}' failed to satisfy constraint: Member must not be null"
            )
        elif error.get("type") == "json_invalid":
            wrong_types.append(f"Invalid JSON body: {error.get('msg')}")
        else:
            wrong_types.append(
                f"Value at '{field}' failed to satisfy constraint: {error.get('msg')}"
            )
    if aws_face and wrong_types:
        return e.SerializationException("; ".join(wrong_types + violations))
    return e.ValidationException(e.validation_message(*violations, *wrong_types))


def aws_error_body(exc: BaseException) -> dict[str, Any]:
    """``{"__type", "message"[, "reason"]}`` (AWS JSON 1.0 error)."""
    _, code = lookup(exc)
    body: dict[str, Any] = {"__type": code, "message": message_of(exc)}
    if isinstance(exc, e.ValidationException) and exc.reason:
        body["reason"] = exc.reason
    return body


def rest_error_body(exc: BaseException) -> dict[str, Any]:
    """``{"error", "message"[, "reason"][, "problems"]}`` (/v1 error)."""
    _, code = lookup(exc)
    body: dict[str, Any] = {"error": code, "message": message_of(exc)}
    if isinstance(exc, e.ValidationException) and exc.reason:
        body["reason"] = exc.reason
    if isinstance(exc, e.InvalidDefinition):
        body["problems"] = exc.problems
    return body


class ErrorResponse(JSONResponse):
    """A JSON error body rendered as ASCII, so no text a client sent can break its encoding."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(exc: BaseException, *, aws_face: bool) -> JSONResponse:
    """The one error response of each face for any exception.

    AWS face: ``{"__type", "message"}`` with ``x-amzn-ErrorType``, status 400 for every client
    error (as AWS answers; botocore reads the code from ``__type``), 5xx kept. /v1 face:
    ``{"error", "message", ...}`` with the status of :data:`ERROR_TABLE`.
    """
    status, code = lookup(exc)
    if aws_face:
        return ErrorResponse(
            aws_error_body(exc),
            status_code=status if status >= 500 else 400,
            media_type=AWS_CONTENT_TYPE,
            headers={"x-amzn-ErrorType": code},
        )
    return ErrorResponse(rest_error_body(exc), status_code=status)

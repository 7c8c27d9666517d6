"""Errors of the Step Functions service, one class per AWS error code.

Each class carries the AWS error code (the ``__type`` of the JSON protocol) in ``code``. The API
maps classes to HTTP statuses in :mod:`orchestrator.api.errors`; services (this package and
``orchestrator.maprun``) only raise them. Messages follow AWS's wording where it is known.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the service reports to a client.

    Attributes:
        code: the AWS error code, sent as ``__type`` on the AWS JSON face.
        message: the human-readable message.
    """

    code: str = "ServiceError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """The error as an AWS JSON 1.0 error body."""
        return {"__type": self.code, "message": self.message}


class InvalidDefinition(ServiceError):
    """The state machine definition is invalid; ``problems`` lists every problem found.

    Attributes:
        problems: dicts ``{"code", "message", "location"}``, one per problem.
    """

    code = "InvalidDefinition"

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class InvalidName(ServiceError):
    code = "InvalidName"


class InvalidArn(ServiceError):
    code = "InvalidArn"


class InvalidExecutionInput(ServiceError):
    code = "InvalidExecutionInput"


class InvalidToken(ServiceError):
    code = "InvalidToken"


class StateMachineDoesNotExist(ServiceError):
    code = "StateMachineDoesNotExist"


class StateMachineAlreadyExists(ServiceError):
    code = "StateMachineAlreadyExists"


class StateMachineDeleting(ServiceError):
    code = "StateMachineDeleting"


class StateMachineTypeNotSupported(ServiceError):
    code = "StateMachineTypeNotSupported"


class ExecutionDoesNotExist(ServiceError):
    code = "ExecutionDoesNotExist"


class ExecutionAlreadyExists(ServiceError):
    code = "ExecutionAlreadyExists"


class ExecutionNotRedrivable(ServiceError):
    code = "ExecutionNotRedrivable"


class ExecutionLimitExceeded(ServiceError):
    code = "ExecutionLimitExceeded"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"


class ValidationException(ServiceError):
    """A request that breaks a constraint of the API model.

    Attributes:
        reason: optional ``ValidationExceptionReason`` of the API model, e.g.
            ``API_DOES_NOT_SUPPORT_LABELED_ARNS`` or ``CANNOT_UPDATE_COMPLETED_MAP_RUN``.
    """

    code = "ValidationException"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.reason:
            body["reason"] = self.reason
        return body


# API-side errors (raised by the HTTP faces, never by the service itself).


class UnknownOperation(ServiceError):
    """The ``X-Amz-Target`` header names no supported operation."""

    code = "UnknownOperationException"


class SerializationException(ServiceError):
    """The request body is not JSON, or a member has the wrong JSON type."""

    code = "SerializationException"


class Unauthorized(ServiceError):
    """No valid bearer token (only when ``api.auth_enabled``)."""

    code = "UnrecognizedClientException"


class RequestTooLarge(ServiceError):
    """The request body is larger than ``api.max_request_bytes``."""

    code = "ValidationException"


class UnknownRoute(ServiceError):
    """No route matches the request's path."""

    code = "UnknownOperationException"


class MethodNotAllowed(ServiceError):
    """The path exists but not with the request's HTTP method."""

    code = "UnknownOperationException"


def validation_message(*violations: str) -> str:
    """AWS's wording for constraint violations: ``N validation error(s) detected: a; b``."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(violations)

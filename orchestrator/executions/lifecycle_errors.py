"""Errors of the state machine lifecycle operations (versions, aliases, tags), AWS's codes."""

from __future__ import annotations

from typing import Any

from orchestrator.executions.errors import ServiceError


class ConflictException(ServiceError):
    """The request conflicts with the resource's state (revision mismatch, version in use)."""

    code = "ConflictException"


class ServiceQuotaExceededException(ServiceError):
    """A quota is reached (AWS: 1000 versions per state machine, 100 aliases)."""

    code = "ServiceQuotaExceededException"


class TooManyTags(ServiceError):
    """More than 50 tags on one resource.

    Attributes:
        resource_name: the ARN of the resource (``resourceName`` of the API model).
    """

    code = "TooManyTags"

    def __init__(self, message: str, resource_name: str) -> None:
        super().__init__(message)
        self.resource_name = resource_name

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "resourceName": self.resource_name}

"""Request parameter checks with AWS's constraint wording.

AWS reports a broken API-model constraint as ``ValidationException`` with a message like
``1 validation error detected: Value '2000' at 'maxResults' failed to satisfy constraint:
Member must have value less than or equal to 1000``. These helpers read one member of an
AWS-shaped request dict and raise exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.executions.errors import ValidationException, validation_message
from orchestrator.executions.jsontext import has_lone_surrogate

DEFAULT_PAGE_SIZE = 100


def _violation(value: Any, field: str, constraint: str) -> ValidationException:
    shown = "null" if value is None else f"'{value}'"
    return ValidationException(
        validation_message(f"Value {shown} at '{field}' failed to satisfy constraint: {constraint}")
    )


def required_str(request: Mapping[str, Any], field: str, max_length: int | None = None) -> str:
    """A required non-empty string member.

    Raises:
        ValidationException: missing, not a string, empty or too long.
    """
    value = request.get(field)
    if value is None:
        raise _violation(None, field, "Member must not be null")
    return _check_str(value, field, max_length)


def optional_str(
    request: Mapping[str, Any], field: str, max_length: int | None = None, min_length: int = 1
) -> str | None:
    """An optional string member (``None`` when absent)."""
    value = request.get(field)
    if value is None:
        return None
    return _check_str(value, field, max_length, min_length)


def _check_str(value: Any, field: str, max_length: int | None, min_length: int = 1) -> str:
    if not isinstance(value, str):
        raise _violation(value, field, "Member must be a string")
    if has_lone_surrogate(value):
        raise _violation(
            value.encode("utf-8", "backslashreplace").decode("ascii", "replace")[:100],
            field,
            "Member must be valid Unicode text (it holds a lone UTF-16 surrogate)",
        )
    if len(value) < min_length:
        raise _violation(
            value, field, f"Member must have length greater than or equal to {min_length}"
        )
    if max_length is not None and len(value) > max_length:
        shown = value if len(value) <= 100 else value[:100] + "..."
        raise _violation(
            shown, field, f"Member must have length less than or equal to {max_length}"
        )
    return value


def enum_str(
    request: Mapping[str, Any], field: str, allowed: Sequence[str], default: str | None = None
) -> str | None:
    """An optional member restricted to ``allowed``."""
    value = request.get(field)
    if value is None:
        return default
    if value not in allowed:
        raise _violation(
            value, field, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return str(value)


def int_in_range(
    request: Mapping[str, Any], field: str, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """An optional integer member within ``minimum..maximum``."""
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _violation(value, field, "Member must be an integer")
    if minimum is not None and value < minimum:
        raise _violation(value, field, f"Member must have value greater than or equal to {minimum}")
    if maximum is not None and value > maximum:
        raise _violation(value, field, f"Member must have value less than or equal to {maximum}")
    return value


def float_in_range(
    request: Mapping[str, Any],
    field: str,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """An optional number member within ``minimum..maximum``."""
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _violation(value, field, "Member must be a number")
    if minimum is not None and value < minimum:
        raise _violation(value, field, f"Member must have value greater than or equal to {minimum}")
    if maximum is not None and value > maximum:
        raise _violation(value, field, f"Member must have value less than or equal to {maximum}")
    return float(value)


def boolean(request: Mapping[str, Any], field: str, default: bool) -> bool:
    """An optional boolean member."""
    value = request.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _violation(value, field, "Member must be a boolean")
    return value


def page_size(request: Mapping[str, Any], field: str = "maxResults", maximum: int = 1000) -> int:
    """``maxResults`` in 0..maximum; 0 or absent means the default page size (100)."""
    value = int_in_range(request, field, 0, maximum)
    return value or DEFAULT_PAGE_SIZE


_CLIENT_TOKEN = re.compile(r"[!-~]+")


def client_token(request: Mapping[str, Any]) -> str | None:
    """``clientToken``: 1..64 printable ASCII characters without spaces."""
    value = optional_str(request, "clientToken", 64)
    if value is not None and not _CLIENT_TOKEN.fullmatch(value):
        raise _violation(
            value, "clientToken", "Member must satisfy regular expression pattern: [!-~]+"
        )
    return value

"""The handler registry: the only code a Task state can reach.

A handler is registered with ``@handler("clean-text")`` in a module named by the
``handler_modules`` setting; a Task resolves ``FunctionName`` (plain name, partial or full
Lambda ARN, with or without a ``:qualifier``) to a registered callable and nothing else is
ever imported or run (docs/architecture.md invariant 8).
"""

from __future__ import annotations

import importlib
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, "HandlerContext"], Any]

_REGISTRY: dict[str, Handler] = {}

# arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier], 123456789012:function:name, name[:qualifier]
_FULL_ARN = re.compile(
    r"^arn:[a-z-]+:lambda:[a-z0-9-]*:\d*:function:(?P<name>[A-Za-z0-9_-]+)(?::(?P<q>[A-Za-z0-9$_-]+))?$"
)
_PARTIAL_ARN = re.compile(r"^\d{12}:function:(?P<name>[A-Za-z0-9_-]+)(?::(?P<q>[A-Za-z0-9$_-]+))?$")
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]{1,140})(?::(?P<q>[A-Za-z0-9$_-]+))?$")


class HandlerError(Exception):
    """Raise from a handler to fail the Task with a chosen ASL error name.

    Args:
        error: the error name Retry/Catch match (must not start with ``States.``).
        cause: a human-readable cause.
    """

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(cause or error)
        self.error = error
        self.cause = cause


class UnknownHandler(LookupError):
    """A FunctionName that no loaded module registered."""


@dataclass
class HandlerContext:
    """The Lambda-style context object handed to a handler."""

    function_name: str
    invoked_function_arn: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    deadline_monotonic: float | None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the Task's TimeoutSeconds (a large number when none)."""
        if self.deadline_monotonic is None:
            return 900_000
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated callable under ``name``; a second registration is refused."""
    if not _NAME.match(name) or ":" in name:
        raise ValueError(f"invalid handler name {name!r}: use letters, digits, '-' and '_'")

    def register(fn: Handler) -> Handler:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not fn:
            raise ValueError(
                f"handler {name!r} is already registered by {existing.__module__}.{existing.__qualname__}"
            )
        _REGISTRY[name] = fn
        return fn

    return register


def registered_names() -> list[str]:
    """The names of every registered handler, sorted."""
    return sorted(_REGISTRY)


def parse_function_name(function_name: str) -> tuple[str, str | None]:
    """Split a FunctionName (name, partial or full ARN, optional qualifier) into (name, qualifier)."""
    for pattern in (_FULL_ARN, _PARTIAL_ARN, _NAME):
        match = pattern.match(function_name)
        if match:
            return match.group("name"), match.group("q")
    raise UnknownHandler(f"FunctionName {function_name!r} is not a function name or Lambda ARN")


def resolve(function_name: str) -> tuple[str, str | None, Handler]:
    """The registered handler behind ``function_name``.

    Raises:
        UnknownHandler: nothing is registered under that name; the message lists what is.
    """
    name, qualifier = parse_function_name(function_name)
    fn = _REGISTRY.get(name)
    if fn is None:
        known = ", ".join(registered_names()) or "(none)"
        raise UnknownHandler(
            f"Function not found: {function_name!r} is not a registered handler. "
            f"Registered handlers: {known}"
        )
    return name, qualifier, fn


class HandlerModuleError(ImportError):
    """A module of ``STEPMAP_HANDLER_MODULES`` cannot be imported: the worker must not start."""


def load_handler_modules(modules: list[str]) -> None:
    """Import each module so its ``@handler`` registrations run.

    Raises:
        HandlerModuleError: a module cannot be imported; the message names it, the setting and
            the import error.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure at import time means no handlers
            raise HandlerModuleError(
                f"STEPMAP_HANDLER_MODULES: cannot import handler module {module!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

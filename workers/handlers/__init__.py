"""Task handlers: Lambda-style Python callables registered by name."""

from workers.handlers.registry import (
    HandlerContext,
    HandlerError,
    UnknownHandler,
    handler,
    load_handler_modules,
    registered_names,
    resolve,
)

__all__ = [
    "HandlerContext",
    "HandlerError",
    "UnknownHandler",
    "handler",
    "load_handler_modules",
    "registered_names",
    "resolve",
]

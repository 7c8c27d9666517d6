"""Log records that say which execution, Map Run, child and request they belong to.

Context lives in :mod:`contextvars` (so it follows threads started with a copied context and
asyncio tasks); :class:`ContextFilter` copies it onto every record as ``execution_arn``,
``map_run_arn``, ``child``, ``request_id`` (an API request) and ``task_id`` (a Celery task)
(empty when unknown). :func:`dict_config`
builds a ``logging.config.dictConfig`` for an entrypoint in ``text`` or ``json`` format: the
format is a deploy choice (``--log-format`` / ``STEPMAP_LOG_FORMAT``), not a code change.
Library modules never call it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Literal

LogFormat = Literal["text", "json"]
FIELDS = ("execution_arn", "map_run_arn", "child", "request_id", "task_id")

_VARS: dict[str, ContextVar[str]] = {name: ContextVar(f"stepmap_{name}", default="")
                                     for name in FIELDS}


def current() -> dict[str, str]:
    """The context fields that are set now."""
    return {name: var.get() for name, var in _VARS.items() if var.get()}


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Set context fields (``execution_arn=...``) for the block; None leaves a field as is."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log context fields {sorted(unknown)}; known: {list(FIELDS)}")
    tokens = [(_VARS[name], _VARS[name].set(value)) for name, value in fields.items()
              if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Adds the context fields to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``record.<field>`` for each field the record does not carry yet."""
        for name, var in _VARS.items():
            if not getattr(record, name, ""):
                setattr(record, name, var.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (empty context fields left out)."""
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({name: getattr(record, name) for name in FIELDS if getattr(record, name, "")})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """The usual one-line text, with the context fields that are set appended in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The text line plus ``[execution_arn=... request_id=...]`` when known."""
        line = super().format(record)
        context = " ".join(f"{n}={getattr(record, n)}" for n in FIELDS if getattr(record, n, ""))
        return f"{line} [{context}]" if context else line


def dict_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A dictConfig: one stderr handler with the context filter, for the root logger and
    uvicorn's loggers (which then propagate to it)."""
    formatter = {"()": JsonFormatter} if log_format == "json" else {"()": TextFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"stepmap": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "stepmap",
                                "filters": ["context"], "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {name: {"level": level.upper(), "handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }

"""Handlers that ship with stepmap: the demo's text cleaner and small helpers for tests."""

from __future__ import annotations

import re
import time
from typing import Any

from workers.handlers.registry import HandlerContext, HandlerError, handler

_NON_LETTERS = re.compile(r"[^A-Za-z]+")


def clean(text: str) -> str:
    """Strip everything but letters, squeeze runs of spaces into one."""
    return _NON_LETTERS.sub(" ", text).strip()


@handler("clean-text")
def clean_text(event: Any, context: HandlerContext) -> Any:
    """Clean the ``text`` field of one row, or of every row of a batch (``{"Items": [...]}``)."""
    if isinstance(event, dict) and isinstance(event.get("Items"), list):
        rows = event["Items"]
        return {"Items": [_clean_row(row) for row in rows], "count": len(rows)}
    return _clean_row(event)


def _clean_row(row: Any) -> Any:
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise HandlerError("InvalidRow", f"expected an object with a string 'text' field, got {row!r}"[:500])
    return {**row, "text": clean(row["text"])}


@handler("echo")
def echo(event: Any, context: HandlerContext) -> Any:
    """Return the event unchanged."""
    return event


@handler("sleep")
def sleep(event: Any, context: HandlerContext) -> Any:
    """Sleep ``event["seconds"]`` seconds, then return the event."""
    seconds = float(event.get("seconds", 0)) if isinstance(event, dict) else 0.0
    time.sleep(seconds)
    return event


@handler("fail")
def fail(event: Any, context: HandlerContext) -> Any:
    """Fail with ``event["error"]`` (default ``App.Failure``) and ``event["cause"]``."""
    error = event.get("error", "App.Failure") if isinstance(event, dict) else "App.Failure"
    cause = event.get("cause", "failed on purpose") if isinstance(event, dict) else ""
    raise HandlerError(str(error), str(cause))

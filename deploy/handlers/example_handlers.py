"""An example of user handler code, mounted into the compose workers.

compose.yaml mounts this folder at ``/opt/stepmap-handlers`` (on ``PYTHONPATH``) and lists
``example_handlers`` in ``STEPMAP_HANDLER_MODULES``; a Task state reaches the handler with
``"Resource": "arn:aws:states:::lambda:invoke"`` and ``"Parameters": {"FunctionName":
"word-count", "Payload.$": "$"}``. Replace it with your own modules (or set
``STEPMAP_HANDLERS_DIR``), or build them into an image as deploy/README.md shows.
"""

from __future__ import annotations

from typing import Any

from workers.handlers.registry import HandlerContext, HandlerError, handler


@handler("word-count")
def word_count(event: Any, context: HandlerContext) -> Any:
    """Count the words of ``event["text"]``."""
    if not isinstance(event, dict) or not isinstance(event.get("text"), str):
        raise HandlerError("InvalidRow", "expected an object with a string 'text' field")
    return {**event, "words": len(event["text"].split())}

"""A handler exception's cause carries its stack, Lambda-shaped and bounded."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from orchestrator.asl import StatesError, TaskRequest
from workers.handlers.registry import HandlerContext, handler
from workers.invoker import WorkerTaskInvoker
from workers.stack_trace import MAX_FRAME_CHARS, MAX_FRAMES, lambda_stack_trace


def _recurse(depth: int) -> None:
    if depth == 0:
        raise KeyError("deep")
    _recurse(depth - 1)


def test_a_handler_failure_cause_lists_the_handler_frames_innermost_last() -> None:
    name = f"fails-{uuid.uuid4().hex[:8]}"

    @handler(name)
    def fails(event: Any, context: HandlerContext) -> Any:
        return {"value": event["missing"]}

    request = TaskRequest(state_name="Work", resource="arn:aws:states:::lambda:invoke",
                          parameters={"FunctionName": name, "Payload": {}})
    with pytest.raises(StatesError) as raised:
        WorkerTaskInvoker().invoke(request)
    cause = json.loads(raised.value.cause)
    assert raised.value.error == "KeyError"
    (frame,) = cause["stackTrace"]
    assert frame.startswith('  File "') and ", in fails\n" in frame
    assert 'return {"value": event["missing"]}' in frame


def test_deep_stacks_keep_only_the_innermost_frames_each_bounded() -> None:
    try:
        _recurse(50)
    except KeyError as exc:
        frames = lambda_stack_trace(exc, skip=0)
    assert len(frames) == MAX_FRAMES
    assert all(len(f) <= MAX_FRAME_CHARS for f in frames)
    assert "raise KeyError" in frames[-1]

"""A handler exception's stack, bounded, in the shape Lambda puts in ``stackTrace``.

Lambda lists one string per frame, ``  File "<path>", line <n>, in <function>\\n    <source>\\n``,
innermost last. Only the handler's own frames are kept (the invoker's frame is dropped), at
most :data:`MAX_FRAMES` of the innermost ones, each cut to :data:`MAX_FRAME_CHARS`, so a deep
recursion cannot blow up the cause (which counts against the payload limit).
"""

from __future__ import annotations

import traceback

MAX_FRAMES = 10
MAX_FRAME_CHARS = 300


def lambda_stack_trace(exc: BaseException, *, skip: int = 1) -> list[str]:
    """The innermost frames of ``exc``'s traceback as Lambda's ``stackTrace`` strings.

    Args:
        exc: the exception a handler raised.
        skip: outer frames to drop (the caller that invoked the handler).
    """
    frames = traceback.extract_tb(exc.__traceback__)[skip:][-MAX_FRAMES:]
    out = []
    for frame in frames:
        text = f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
        if frame.line:
            text += f"    {frame.line.strip()}\n"
        out.append(text if len(text) <= MAX_FRAME_CHARS else text[: MAX_FRAME_CHARS - 4] + "...\n")
    return out

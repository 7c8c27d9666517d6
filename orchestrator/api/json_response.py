"""The JSON response of both faces' successful answers.

Stored data can hold text no client sent: an intrinsic such as ``States.StringToJson`` may
build a string with a lone UTF-16 surrogate at run time. Such a string cannot be encoded as
UTF-8, so the answer falls back to ASCII JSON (``\\ud800`` escapes, still valid JSON) instead
of failing with a 500 while the response is rendered.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse


class SafeJSONResponse(JSONResponse):
    """UTF-8 JSON, or ASCII-escaped JSON when the content holds unencodable text."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")

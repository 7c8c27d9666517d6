"""Sends fuzzed requests to a real server over keep-alive connections and counts what matters.

Figures: requests per face, answers by status class, 5xx answers, dropped connections (a
request that got no complete HTTP answer), failed health probes (the server stopped serving).
"""

from __future__ import annotations

import http.client
import json
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HttpRequest:
    """One request to send: method, path with query, headers and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    face: str


@dataclass
class Figures:
    """What a fuzz run observed."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    wrong_shape: list[str] = field(default_factory=list)
    failed_probes: int = 0
    definitions: Counter[str] = field(default_factory=Counter)
    engine_failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The figures as printable lines."""
        lines = [
            f"requests: {sum(self.requests.values())} "
            + " ".join(f"{face}={count}" for face, count in sorted(self.requests.items())),
            "statuses: " + " ".join(f"{s}={n}" for s, n in sorted(self.statuses.items())),
            f"5xx answers: {len(self.server_errors)}",
            f"dropped connections: {len(self.dropped)}",
            f"answers not in the face's error shape: {len(self.wrong_shape)}",
            f"failed health probes: {self.failed_probes}",
            "definitions: " + " ".join(f"{k}={n}" for k, n in sorted(self.definitions.items())),
            f"accepted definitions not terminal under the step budget: "
            f"{len(self.engine_failures)}",
        ]
        for title, items in (("5xx", self.server_errors), ("dropped", self.dropped),
                             ("shape", self.wrong_shape), ("engine", self.engine_failures)):
            lines.extend(f"  {title}: {item}" for item in items[:5])
        return "\n".join(lines)


def _shape_ok(request: HttpRequest, response: http.client.HTTPResponse, body: bytes) -> bool:
    """An error answer carries the face's error shape (AWS: ``__type`` + header)."""
    if response.status < 400 or request.method == "HEAD":
        return True
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict) or "detail" in payload:
        return False
    if request.path == "/" or "X-Amz-Target" in request.headers:
        return "__type" in payload and response.getheader("x-amzn-ErrorType") is not None
    return "error" in payload and "message" in payload


class Driver:
    """Sends requests to ``host:port`` and records :class:`Figures`.

    Args:
        host: server host (loopback).
        port: server port.
        tokens: list the driver appends every ``nextToken`` it sees to (for reuse).
    """

    def __init__(self, host: str, port: int, tokens: list[str]) -> None:
        self.host = host
        self.port = port
        self.tokens = tokens
        self.figures = Figures()
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self._conn

    def send(self, request: HttpRequest) -> tuple[int, Any] | None:
        """Send one request; (status, JSON body or None), or None when the connection dropped."""
        self.figures.requests[request.face] += 1
        conn = self._connection()
        try:
            # Header values as bytes: a generated one may hold what latin-1 cannot encode.
            headers = {k: v.encode("utf-8", "surrogatepass") for k, v in request.headers.items()}
            conn.request(request.method, request.path, body=request.body or None,
                         headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError, socket.timeout) as exc:
            self.figures.dropped.append(f"{request.method} {request.path[:80]} "
                                        f"{request.body[:80]!r}: {type(exc).__name__}")
            conn.close()
            self._conn = None
            return None
        if response.will_close:
            conn.close()
            self._conn = None
        status = response.status
        self.figures.statuses[status // 100 * 100] += 1
        described = f"{request.method} {request.path[:80]} {request.headers.get('X-Amz-Target', '')}"
        if status >= 500:
            self.figures.server_errors.append(f"{status} {described} {request.body[:120]!r}")
        if not _shape_ok(request, response, body):
            self.figures.wrong_shape.append(f"{status} {described}: {body[:120]!r}")
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("nextToken"), str):
            if len(self.tokens) < 200:
                self.tokens.append(payload["nextToken"])
        return status, payload

    def probe(self) -> None:
        """A health probe on a fresh connection: the server must still answer."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request("POST", "/", body=b"{}", headers={
                "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                "Content-Type": "application/x-amz-json-1.0"})
            if conn.getresponse().status != 200:
                self.figures.failed_probes += 1
        except (http.client.HTTPException, OSError):
            self.figures.failed_probes += 1
        finally:
            conn.close()

    def close(self) -> None:
        """Close the keep-alive connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

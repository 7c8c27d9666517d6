"""The binding to the ``jsonatapy`` library: compiling (cached, thread rules), Step Functions'
own JSONata functions (``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``,
``$parse``; ``$eval`` is refused, as on AWS) and the library's error messages.
"""

from __future__ import annotations

import hashlib
import json
import math
import queue
import random
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from orchestrator.asl._intrinsic_functions import random_source
from orchestrator.asl._timestamps import parse_timestamp

_FUNCTION = re.compile(r"\$(partition|range|hash|random|uuid|parse|eval)\s*\(")
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512"}

#: The context mapping of the evaluation under way (random source for $random/$uuid).
CONTEXT: ContextVar[Mapping[str, Any] | None] = ContextVar("jsonata_context", default=None)

_LIBRARY_PREFIX = re.compile(r"^(?:host function raised \w+: |[A-Z]\d{4}: )+")


def library_message(exc: Exception) -> str:
    """The JSONata message of a library error, without the library's code prefixes (the
    JSONata reference's messages are what AWS's causes quote; decision)."""
    return _LIBRARY_PREFIX.sub("", str(exc))


# -- Step Functions' functions ---------------------------------------------------------------


def _fail(message: str) -> Exception:
    return ValueError(message)


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(f"The {name} argument must be a number")
    return math.floor(value)


def _partition(array: Any, size: Any) -> Any:
    if not isinstance(array, list):
        array = [array]
    n = _integer(size, "size")
    if n <= 0:
        raise _fail("The size argument must be a positive number")
    return [array[i : i + n] for i in range(0, len(array), n)]


def _range(start: Any, end: Any, step: Any) -> Any:
    first, last, by = _integer(start, "start"), _integer(end, "end"), _integer(step, "step")
    if by == 0:
        raise _fail("The step argument must not be zero")
    stop = last + 1 if by > 0 else last - 1
    values = list(range(first, stop, by))
    if len(values) > 1000:
        raise _fail("The range must not have more than 1000 items")
    return values


def _hash(data: Any, algorithm: Any) -> Any:
    if not isinstance(data, str):
        raise _fail("The data argument must be a string")
    if algorithm not in _HASHES:
        raise _fail(f"The algorithm argument must be one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], data.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> Any:
    if seed is not None:
        return random.Random(_integer(seed, "seed")).random()
    return random_source(CONTEXT.get()).random()


def _uuid() -> Any:
    return str(uuid.UUID(int=random_source(CONTEXT.get()).getrandbits(128), version=4))


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _fail("The argument of $parse must be a string")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _fail(f"The argument of $parse is not valid JSON: {exc}") from None


def _eval(*args: Any) -> Any:
    raise _fail("The function $eval is not supported; use $parse")


def _entered() -> datetime:
    """The state's entry time from the context (journaled, so a replay sees the same)."""
    ctx = CONTEXT.get()
    state = ctx.get("State") if ctx is not None else None
    stamp = parse_timestamp(state.get("EnteredTime", "")) if isinstance(state, dict) else None
    return stamp if stamp is not None else datetime.now(UTC)


def _now() -> Any:
    return _entered().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _millis() -> Any:
    return int(_entered().timestamp() * 1000)


_OVERRIDES: dict[str, Callable[..., Any]] = {
    "random": _random, "eval": _eval, "now": _now, "millis": _millis,
}
#: ``$now()`` / ``$millis()`` without arguments: the state's entry time (decision, so that
#: a replayed execution evaluates to the same values); with arguments JSONata's own ``$now``.
_CLOCK = re.compile(r"\$(now|millis)\s*\(\s*\)")
_ADDED: dict[str, Callable[..., Any]] = {
    "partition": _partition, "range": _range, "hash": _hash, "uuid": _uuid, "parse": _parse,
}


#: Compiled expressions of the main thread, by text (see :func:`compile_expression`).
_MAIN_CACHE: dict[str, Any] = {}
_MAIN_CACHE_SIZE = 4096


def compile_expression(text: str) -> Any:
    """The compiled ``jsonatapy`` expression for ``text``.

    jsonatapy's compiled expressions must be used and freed on the thread that made them
    (using or freeing one on another thread panics, and freeing one at interpreter exit
    crashes the process). So only the main thread caches them, per text (Celery's prefork
    children and the coordinator evaluate there); another thread compiles per use and the
    expression dies with the call. A definition parsed on another thread (the API's request
    threads) is checked by :func:`check_syntax` on its own thread instead.

    Raises:
        ValueError: the expression does not parse.
    """
    if not on_main_thread():
        return _compile_new(text)
    expr = _MAIN_CACHE.get(text)
    if expr is None:
        if len(_MAIN_CACHE) >= _MAIN_CACHE_SIZE:
            _MAIN_CACHE.clear()
        expr = _MAIN_CACHE[text] = _compile_new(text)
    return expr


def check_syntax(text: str) -> None:
    """Compile ``text`` to check it, from any thread, without a compiled object leaving the
    thread that made it.

    The main thread compiles (and caches) as :func:`compile_expression` does. Any other thread
    (the API's request threads, many at once) hands the text to one dedicated checker thread,
    which compiles it, drops the result at once and answers with the error message only, so
    every jsonatapy object lives and dies on that thread (see :func:`compile_expression`).

    Raises:
        ValueError: the expression does not parse (the library's message).
    """
    if on_main_thread():
        compile_expression(text)
        return
    verdict = _CHECKER.verdict(text)
    if verdict is not None:
        raise ValueError(verdict)


class _SyntaxChecker:
    """The thread that compiles expressions for :func:`check_syntax` (started on first use)."""

    _CACHE_SIZE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[str, queue.SimpleQueue[str | None]]] = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._verdicts: dict[str, str | None] = {}

    def verdict(self, text: str) -> str | None:
        """None when ``text`` parses, else the library's error message."""
        with self._lock:
            if text in self._verdicts:
                return self._verdicts[text]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, daemon=True,
                                                 name="stepmap-jsonata-check")
                self._thread.start()
        reply: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._jobs.put((text, reply))
        answer = reply.get()
        with self._lock:
            if len(self._verdicts) >= self._CACHE_SIZE:
                self._verdicts.clear()
            self._verdicts[text] = answer
        return answer

    def _serve(self) -> None:
        import jsonatapy

        while True:
            text, reply = self._jobs.get()
            answer: str | None = None
            try:
                jsonatapy.compile(text)  # freed right here, on this thread
            except Exception as exc:  # noqa: BLE001 - the library's parse errors
                answer = str(exc)
            reply.put(answer)


_CHECKER = _SyntaxChecker()


def on_main_thread() -> bool:
    """Whether the caller runs on the interpreter's main thread."""
    return threading.get_ident() == threading.main_thread().ident


def _compile_new(text: str) -> Any:
    import jsonatapy  # imported on first use: JSONPath-only processes never load it

    expr = jsonatapy.compile(text)
    names = set(_FUNCTION.findall(text))
    clock = set(_CLOCK.findall(text))
    if clock and len(re.findall(r"\$(?:now|millis)\s*\(", text)) == len(_CLOCK.findall(text)):
        names |= clock
    for name in names:
        if name in _OVERRIDES:
            expr.register_override(name, _OVERRIDES[name])
        else:
            expr.register(name, _ADDED[name])
    return expr



__all__ = ["CONTEXT", "check_syntax", "compile_expression", "library_message", "on_main_thread"]

"""JSON and JSON Lines parsing for the item readers, streaming over byte chunks.

JSON (spec §2.2): the items are the elements of the top-level array, or of the node
selected by ``ItemsPointer`` (a JSON Pointer, RFC 6901). Nested arrays are not
flattened (``[["a"]]`` yields one item ``["a"]``). Arrays are streamed with ijson and
each element is built on its own, so a 10 GB array needs constant memory. Numbers
become ``int``/``float`` (never ``Decimal``) so items stay JSON-serialisable.

Decision (spec §8.5, unverified): a top-level value (or pointed-to node) that is not an
array — an object included — fails with the cause AWS was observed to give,
``Attempting to map over non-iterable node.``; the newer documentation only mentions
objects together with ``ItemsPointer``, which must then select an array.

JSON Lines: one JSON value per line (``\\n``; a trailing ``\\r`` is whitespace). Blank
lines are skipped (decision, unverified), so a trailing newline adds no item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

import ijson

from orchestrator.asl.errors import ItemReaderFailed, StatesError
from orchestrator.readers._csv import MAX_RECORD_BYTES
from orchestrator.readers._depth import MAX_ITEM_DEPTH
from orchestrator.readers._s3 import chunk_file

#: Observed AWS cause when the items node is not an array.
NON_ITERABLE_CAUSE = "Attempting to map over non-iterable node."

_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
_VALUE_STARTS = frozenset(b'{"-0123456789tfn')


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON Pointer (``/a/b~1c/0``) into unescaped reference tokens.

    Raises:
        ItemReaderFailed: when the pointer is not empty and does not start with ``/``.
    """
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ItemReaderFailed(
            f"ItemsPointer {pointer!r} is not a valid JSON Pointer: it must start with '/'."
        )
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


class JsonArrayItems:
    """Iterate the elements of a JSON array held in a byte stream.

    Args:
        chunks: the document's bytes in chunks.
        where: ``s3://bucket/key`` used in causes.
        pointer: optional ``ItemsPointer``.
    """

    def __init__(
        self, chunks: Iterable[bytes], *, where: str = "<memory>", pointer: str | None = None
    ) -> None:
        self._chunks = chunks
        self._where = where
        self._tokens = parse_pointer(pointer) if pointer else None
        self._pointer = pointer

    def __iter__(self) -> Iterator[Any]:
        chunks = iter(self._chunks)
        first = b""
        for chunk in chunks:
            first = chunk.lstrip(_WHITESPACE)
            if first.startswith(_BOM):
                # RFC 8259 lets parsers ignore a UTF-8 byte order mark; editors add one.
                first = first[len(_BOM):].lstrip(_WHITESPACE)
            if first:
                break
        if not first:
            raise ItemReaderFailed(f"Cannot parse JSON {self._where}: the object is empty.")
        stream = chunk_file(chain([first], chunks))
        try:
            if self._tokens is None:
                if first[0] != 0x5B:  # '['
                    if first[0] in _VALUE_STARTS:
                        raise ItemReaderFailed(NON_ITERABLE_CAUSE)
                    raise ItemReaderFailed(
                        f"Cannot parse JSON {self._where}: unexpected character "
                        f"{chr(first[0])!r} at the start of the document."
                    )
                yield from ijson.items(stream, "item", use_float=True)
            else:
                yield from self._pointed(ijson.basic_parse(stream, use_float=True))
        except (ijson.JSONError, ValueError) as exc:
            raise ItemReaderFailed(
                f"Cannot parse JSON {self._where} at or before byte offset "
                f"{stream.consumed}: {_first_line(exc)}"
            ) from exc

    def _pointed(self, events: Iterator[tuple[str, Any]]) -> Iterator[Any]:
        assert self._tokens is not None
        event, value = next(events)
        for token in self._tokens:
            event, value = _descend(events, event, token)
            if event == "":
                raise ItemReaderFailed(
                    f"ItemsPointer {self._pointer!r} does not match any node of {self._where}."
                )
        if event != "start_array":
            raise ItemReaderFailed(NON_ITERABLE_CAUSE)
        for event, value in events:
            if event == "end_array":
                return
            yield _build(events, event, value)


def _first_line(exc: Exception) -> str:
    # yajl's messages continue with an excerpt of the document; keep the first line.
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _skip(events: Iterator[tuple[str, Any]], event: str) -> None:
    """Consume the rest of the value whose first event was ``event``."""
    if event not in ("start_map", "start_array"):
        return
    depth = 1
    for ev, _ in events:
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return


def _descend(events: Iterator[tuple[str, Any]], event: str, token: str) -> tuple[str, Any]:
    """From a node's first event, move to its child ``token``; ``("", None)`` when absent."""
    if event == "start_map":
        for ev, value in events:
            if ev == "end_map":
                return "", None
            # ev == "map_key"
            child_event, child_value = next(events)
            if value == token:
                return child_event, child_value
            _skip(events, child_event)
    elif event == "start_array" and token.isdigit() and (token == "0" or token[0] != "0"):
        wanted = int(token)
        index = 0
        for ev, value in events:
            if ev == "end_array":
                return "", None
            if index == wanted:
                return ev, value
            _skip(events, ev)
            index += 1
    return "", None


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any) -> Any:
    """Build the whole value whose first event is ``event``."""
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    if event in ("start_map", "start_array"):
        depth = 1
        for ev, val in events:
            builder.event(ev, val)
            if ev in ("start_map", "start_array"):
                depth += 1
            elif ev in ("end_map", "end_array"):
                depth -= 1
                if depth == 0:
                    break
    return builder.value


class JsonLines:
    """Iterate the values of a JSON Lines byte stream, one per non-blank line.

    Args:
        chunks: the object's bytes in chunks, starting at byte ``offset``.
        where: ``s3://bucket/key`` used in causes.
        offset: byte offset of the first chunk.
        line: number of lines before ``offset``.
    """

    def __init__(
        self, chunks: Iterable[bytes], *, where: str = "<memory>", offset: int = 0, line: int = 0
    ) -> None:
        self._chunks = chunks
        self._where = where
        self._offset = offset
        self._line = line

    def position(self) -> dict[str, Any]:
        """Cursor fields after the last value yielded: byte offset and line count."""
        return {"offset": self._offset, "line": self._line}

    def __iter__(self) -> Iterator[Any]:
        carry = b""
        loads = json.loads
        for chunk in self._chunks:
            if not chunk:
                continue
            lines = (carry + chunk if carry else chunk).split(b"\n")
            carry = lines.pop()
            if len(carry) > MAX_RECORD_BYTES:
                raise ItemReaderFailed(
                    f"A JSONL line of {self._where} at line {self._line + len(lines) + 1} "
                    f"is larger than {MAX_RECORD_BYTES} bytes."
                )
            for raw in lines:
                start = self._offset
                self._offset += len(raw) + 1
                self._line += 1
                if raw.strip():
                    try:
                        value = loads(raw)
                    except (ValueError, RecursionError) as exc:
                        raise self._bad(exc, start) from exc
                    yield value
        if carry:
            start = self._offset
            self._offset += len(carry)
            self._line += 1
            if carry.strip():
                try:
                    value = loads(carry)
                except (ValueError, RecursionError) as exc:
                    raise self._bad(exc, start) from exc
                yield value

    def _bad(self, exc: ValueError | RecursionError, start: int) -> StatesError:
        reason = (f"the value is nested too deeply (items may nest at most {MAX_ITEM_DEPTH} "
                  "arrays and objects)" if isinstance(exc, RecursionError) else str(exc))
        return ItemReaderFailed(
            f"Cannot parse JSONL {self._where} at line {self._line} "
            f"(byte offset {start}): {reason}"
        )

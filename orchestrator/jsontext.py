"""The one compact-JSON writer of the control plane and the workers, and their fast reader.

Compact separators and no ASCII escaping, as AWS serialises payloads: a child's output, a
parent's output and a result file all carry the same text for the same value.

:func:`loads` reads a child's input (a batch of 1,000 CSV rows took 0.54 µs an item with
``json.loads``, about half the children's CPU in the 1M-row benchmark; 0.22 µs with orjson). It
gives what ``json.loads`` gives: text orjson refuses (``NaN``/``Infinity``, lone surrogates,
nesting past 1,024 levels, numbers that overflow a float) is read by ``json.loads``, and so is
text with a run of 19 digits or more, since orjson reads an integer beyond 64 bits as a float
(``json``: the exact ``int``); 18 digits never pass 64 bits
(``tests/unit/test_jsontext.py``).

orjson writes floats differently (``1e+16`` is ``1e16`` there), so the one writer of what users
read stays :func:`dumps`; a value known to hold no float (a result file's record: strings,
integers, booleans, ``None``) is written by orjson through :func:`dumps_float_free`, the same
bytes (escapes included) 2.6x faster for a record carrying a 1,000-row input; and what only this
program reads back (a stored child record, a child's history event) by :func:`dumps_stored`,
whose floats read back to the same values.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


#: Digits to ``0``, every other byte to a space: a run of :data:`_LONG_RUN` in the translated
#: text is a run of 19 digits (a number orjson may not hold; in a string too: then only slower).
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_RUN = b"0" * 19


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``, read by orjson where it reads the text the same way."""
    if isinstance(text, bytes):
        data = text  # UTF-8 or not, what orjson refuses goes to json.loads below
    else:
        try:
            data = text.encode()
        except UnicodeEncodeError:  # a lone surrogate in the text itself
            return json.loads(text)
    if _LONG_RUN not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def dumps(value: Any) -> str:
    """``value`` as compact JSON text (UTF-8 characters kept as they are)."""
    return _ENCODE(value)


def dumps_float_free(value: Any) -> bytes:
    """``dumps(value).encode()`` for a value with no float anywhere in it (the caller knows).
    What orjson refuses (a lone surrogate, an integer past 64 bits) goes to :func:`dumps`."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return dumps(value).encode()


def dumps_stored(value: Any) -> str:
    """Compact JSON of a value only this program reads back (with :func:`loads`): a stored
    child record, a child's history event. orjson, 3-4x faster than :func:`dumps` for them; its
    floats are spelled its own way (``1e16``, ``1e-5``) and read back to the same values. What
    orjson refuses (a lone surrogate, an integer past 64 bits) goes to :func:`dumps`. The value
    holds no NaN or infinity (orjson writes them as ``null``): epoch seconds, counts, texts."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return dumps(value)


def batch_suffix(batch_input: Any) -> str:
    """The text after an ItemBatcher batch's items: ``,"BatchInput":...`` or nothing."""
    return "" if batch_input is None else ',"BatchInput":' + dumps(batch_input)


def batch_text(items: list[str], suffix: str) -> str:
    """An ItemBatcher child input from its items' JSON texts and :func:`batch_suffix` (the
    one envelope of the feeder's batches and of the children that read their own ranges)."""
    return batch_of_joined(",".join(items), suffix)


def batch_of_joined(items: str, suffix: str) -> str:
    """:func:`batch_text` for items already joined by commas."""
    return '{"Items":[' + items + "]" + suffix + "}"


def batch_of_values(items: list[Any], suffix: str) -> str:
    """:func:`batch_text` for items kept as values: the list serialised once."""
    return '{"Items":' + dumps(items) + suffix + "}"

"""The 18 intrinsic functions of spec 5.5, applied to already evaluated arguments.

Every argument error raises ``States.IntrinsicFailure`` (a documented decision: the spec marks
the IntrinsicFailure/Runtime split as unverified) with a cause naming the function, the
argument (1-based), what was found and what was expected, e.g.
``Invalid argument 2 of States.ArrayGetItem: expected a non-negative integer, found -1``.

Decisions on unverified points (each is tested):

* Numbers that must be integers (ArrayPartition size, ArrayRange, MathAdd, MathRandom) are
  rounded half up like Java's ``Math.round`` (``2.5 -> 3``, ``-2.5 -> -2``); ArrayGetItem's
  index must be integral (``1.0`` is accepted, ``1.5`` is not).
* States.Format renders a string argument as is, ``null``/booleans/numbers as their JSON text,
  an object Java-map style (``{Arg1=1, Arg2=[]}``, observed on AWS: strings unquoted, entries
  and list items separated by ``", "``) and a top-level array as compact JSON.
* States.StringToJson of ``""`` is ``null`` (observed on AWS).
* Equality (ArrayContains, ArrayUnique) is JSON equality: ``1 == 1.0``, ``true != 1``.
* States.StringSplit drops empty tokens (``"a,,b"`` split on ``","`` gives ``["a", "b"]``),
  like Java's StringTokenizer; an empty delimiter string returns the whole string.
* Base64Encode uses the standard alphabet with padding and no line breaks.
* Hash data must be a string; the digest is lowercase hex of its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.asl.errors import IntrinsicFailure, StatesError

#: Key of the context mapping under which the interpreter may pass a ``random.Random``-like
#: object (``random()``, ``getrandbits(k)``, ``randrange(a, b)``) used by States.UUID and
#: States.MathRandom without a seed. Hidden from ``$$`` (it starts with ``__``).
RANDOM_SOURCE_KEY = "__random_source__"

_DEFAULT_RANDOM = random.Random()

_MAX_CHARS = 10_000
_MAX_RANGE_ITEMS = 1000
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_HASHES: dict[str, str] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def random_source(context: Mapping[str, Any] | None) -> Any:
    """The random source for UUID/MathRandom: the context's private one, else a module default."""
    if context is not None:
        source = context.get(RANDOM_SOURCE_KEY)
        if source is not None:
            return source
    return _DEFAULT_RANDOM


def compact_json(value: Any) -> str:
    """JSON text without spaces, non-ASCII kept (how AWS serialises JSON strings)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _show(value: Any) -> str:
    try:
        text = compact_json(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _fail(name: str, index: int, expected: str, found: Any) -> StatesError:
    return IntrinsicFailure(
        f"Invalid argument {index} of {name}: expected {expected}, found {_show(found)}"
    )


def _arity(name: str, args: list[Any], low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if low <= len(args) <= high:
        return
    if low == high:
        want = f"{low} argument{'s' if low != 1 else ''}"
    elif high > 1000:
        want = f"at least {low} arguments"
    else:
        want = f"{low} to {high} arguments"
    raise IntrinsicFailure(f"{name} takes {want}, but {len(args)} were given")


def _is_number(value: Any) -> bool:
    return value.__class__ is int or value.__class__ is float


def _array(name: str, args: list[Any], i: int) -> list[Any]:
    value = args[i]
    if not isinstance(value, list):
        raise _fail(name, i + 1, "an array", value)
    return value


def _string(name: str, args: list[Any], i: int, limit: int | None = None) -> str:
    value = args[i]
    if not isinstance(value, str):
        raise _fail(name, i + 1, "a string", value)
    if limit is not None and len(value) > limit:
        raise _fail(name, i + 1, f"a string of at most {limit} characters", value)
    return value


def _rounded(name: str, args: list[Any], i: int) -> int:
    value = args[i]
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise _fail(name, i + 1, "a number", value)
    if isinstance(value, int):
        return value
    return int(math.floor(value + 0.5))  # Java Math.round: half up


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (``1 == 1.0``), booleans never equal numbers."""
    if a.__class__ is bool or b.__class__ is bool:
        return a.__class__ is b.__class__ and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(json_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return (
            isinstance(b, list) and len(a) == len(b) and all(map(json_equal, a, b))
        )
    if _is_number(a):
        return _is_number(b) and a == b
    return a.__class__ is b.__class__ and a == b


def _json_key(value: Any) -> Any:
    """A hashable key with the same equality as json_equal."""
    if value.__class__ is bool:
        return ("b", value)
    if value.__class__ is float and value.is_integer():
        return ("n", int(value))
    if _is_number(value):
        return ("n", value)
    if isinstance(value, dict):
        return ("o", frozenset((k, _json_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_json_key(v) for v in value))
    return ("s" if isinstance(value, str) else "z", value)


def format_value(value: Any) -> str:
    """How States.Format renders one argument."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _java_text(value)
    return compact_json(value)


def _java_text(value: Any) -> str:
    """A JSON value as Java's ``Map``/``List`` ``toString`` shows it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    return compact_json(value)


def apply_format(parts: list[str], args: list[Any]) -> str:
    """Join template ``parts`` (split at ``{}``) with the rendered ``args``.

    Raises:
        IntrinsicFailure: the number of ``{}`` differs from the number of arguments.
    """
    if len(parts) - 1 != len(args):
        raise IntrinsicFailure(
            f"States.Format: the template has {len(parts) - 1} placeholder(s) '{{}}' but "
            f"{len(args)} argument(s) follow it"
        )
    out = [parts[0]]
    for value, part in zip(args, parts[1:]):
        out.append(format_value(value))
        out.append(part)
    return "".join(out)


def _format(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.Format", args, 1, 10**9)
    template = _string("States.Format", args, 0)
    return apply_format(template.split("{}"), args[1:])


def _string_to_json(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.StringToJson", args, 1)
    text = _string("States.StringToJson", args, 0)
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise _fail("States.StringToJson", 1, "a string containing JSON text", text) from None


def _json_to_string(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.JsonToString", args, 1)
    return compact_json(args[0])


def _array_fn(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    return list(args)


def _array_partition(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.ArrayPartition"
    _arity(name, args, 2)
    array = _array(name, args, 0)
    size = _rounded(name, args, 1)
    if size <= 0:
        raise _fail(name, 2, "a positive integer chunk size", args[1])
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_contains(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.ArrayContains"
    _arity(name, args, 2)
    array = _array(name, args, 0)
    target = args[1]
    return any(json_equal(item, target) for item in array)


def _array_range(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.ArrayRange"
    _arity(name, args, 3)
    start, end, step = (_rounded(name, args, i) for i in range(3))
    if step == 0:
        raise _fail(name, 3, "a non-zero step", args[2])
    count = max(0, (end - start) // step + 1)
    if count > _MAX_RANGE_ITEMS:
        raise IntrinsicFailure(
            f"{name}: the range from {start} to {end} by {step} has {count} items, "
            f"more than the maximum of {_MAX_RANGE_ITEMS}"
        )
    return list(range(start, end + (1 if step > 0 else -1), step))


def _array_get_item(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.ArrayGetItem"
    _arity(name, args, 2)
    array = _array(name, args, 0)
    index = args[1]
    if (
        not _is_number(index)
        or (isinstance(index, float) and not index.is_integer())
        or index < 0
    ):
        raise _fail(name, 2, "a non-negative integer", index)
    position = int(index)
    if position >= len(array):
        raise _fail(name, 2, f"an index below the array length {len(array)}", index)
    return array[position]


def _array_length(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.ArrayLength", args, 1)
    return len(_array("States.ArrayLength", args, 0))


def _array_unique(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.ArrayUnique", args, 1)
    array = _array("States.ArrayUnique", args, 0)
    seen: set[Any] = set()
    out = []
    for item in array:
        key = _json_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _base64_encode(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.Base64Encode", args, 1)
    text = _string("States.Base64Encode", args, 0, _MAX_CHARS)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _base64_decode(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.Base64Decode"
    _arity(name, args, 1)
    text = _string(name, args, 0, _MAX_CHARS)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise _fail(name, 1, "a Base64 string encoding UTF-8 text", text) from None


def _hash(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.Hash"
    _arity(name, args, 2)
    data = _string(name, args, 0, _MAX_CHARS)
    algorithm = args[1]
    if algorithm not in _HASHES:
        raise _fail(name, 2, f"one of {', '.join(_HASHES)}", algorithm)
    return hashlib.new(_HASHES[algorithm], data.encode("utf-8")).hexdigest()


def _json_merge(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.JsonMerge"
    _arity(name, args, 3)
    for i in (0, 1):
        if not isinstance(args[i], dict):
            raise _fail(name, i + 1, "a JSON object", args[i])
    if args[2] is not False:
        raise _fail(name, 3, "false (only shallow merge is supported)", args[2])
    return {**args[0], **args[1]}


def _math_random(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.MathRandom"
    _arity(name, args, 2, 3)
    start, end = _rounded(name, args, 0), _rounded(name, args, 1)
    if end <= start:
        raise _fail(name, 2, f"an end greater than the start {start}", args[1])
    if len(args) == 3:
        seed = _rounded(name, args, 2)
        return random.Random(seed).randrange(start, end)
    return random_source(context).randrange(start, end)


def _math_add(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.MathAdd"
    _arity(name, args, 2)
    total = 0
    for i in (0, 1):
        value = _rounded(name, args, i)
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise _fail(name, i + 1, "an integer between -2147483648 and 2147483647", args[i])
        total += value
    return total


def _string_split(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    name = "States.StringSplit"
    _arity(name, args, 2)
    text = _string(name, args, 0)
    delimiters = _string(name, args, 1)
    if not delimiters:
        return [text] if text else []
    tokens: list[str] = []
    current: list[str] = []
    stops = set(delimiters)
    for char in text:
        if char in stops:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def _uuid(args: list[Any], context: Mapping[str, Any] | None) -> Any:
    _arity("States.UUID", args, 0)
    bits = random_source(context).getrandbits(128)
    return str(uuid.UUID(int=bits, version=4))


Function = Callable[[list[Any], "Mapping[str, Any] | None"], Any]

#: Every intrinsic by name.
FUNCTIONS: dict[str, Function] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array_fn,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}

"""``jsontext.loads`` reads every text exactly as ``json.loads`` does (orjson where it can)."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from orchestrator.jsontext import dumps, dumps_float_free, dumps_stored, loads


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (``1`` is not ``1.0``; NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                     math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _outcome(text: str) -> tuple[str, Any]:
    try:
        return "value", json.loads(text)
    except RecursionError:
        return "error", RecursionError
    except ValueError:
        return "error", ValueError


@pytest.mark.parametrize("text", [
    # Integers: orjson reads those past 64 bits as floats; json keeps them exact.
    "123456789012345678901234567890", "18446744073709551615", "18446744073709551616",
    "-9223372036854775808", "-9223372036854775809", '{"id":99999999999999999999}',
    "[999999999999999999]", "-0", "0", "1E2", "1e400", "-1e400",
    # Floats at the edges of the double range and with long mantissas.
    "-0.0", "5e-324", "2.2250738585072011e-308", "1.7976931348623157e308", "0.1",
    "1.00000000000000011102230246251565404236316680908203125", "[1.0,2.50,3e0]",
    # What only json reads, and what neither reads.
    "NaN", "[Infinity,-Infinity]", '"\\ud800"', '"\\udc00x"', "[1,]", "{\"a\":1,}", "",
    "\ufeff{}", '"a\tb"', '"\\u0000"', "'x'", "[1] [2]", "01", "1.", ".5", "+1",
    # Strings and keys.
    '"\\ud83d\\ude00"', '"\u2028\u00e9"', '{"a":1,"a":2}', ' {"x" : [ ] } ', '"\\/"',
    '{"":{"":[]}}', "[" * 1100 + "]" * 1100, "[" * 200 + "]" * 200,
])
def test_loads_reads_each_text_as_json_does(text: str) -> None:
    kind, expected = _outcome(text)
    if kind == "error":
        with pytest.raises(expected):
            loads(text)
    else:
        assert _same(loads(text), expected), text


def test_a_lone_surrogate_in_the_text_itself_is_read_as_json_reads_it() -> None:
    text = '["\ud800"]'
    assert loads(text) == json.loads(text)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(9 if depth < 4 else 6)
    if pick == 0:
        return rng.randrange(-10**rng.randrange(1, 25), 10**rng.randrange(1, 25))
    if pick == 1:
        return rng.uniform(-1, 1) * 10 ** rng.randrange(-320, 308)
    if pick == 2:
        return float(rng.randrange(-10**6, 10**6)) / 10 ** rng.randrange(0, 8)
    if pick == 3:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000),
                                       rng.randrange(0x1F600, 0x1F650)]))
                       for _ in range(rng.randrange(0, 12)))
    if pick == 4:
        return rng.choice([True, False, None])
    if pick == 5:
        return str(rng.randrange(10**20))
    if pick == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {f"k{rng.randrange(6)}": _random_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}


def test_loads_reads_random_documents_as_json_does() -> None:
    rng = random.Random(20261207)
    for _ in range(3000):
        value = _random_value(rng)
        for text in (dumps(value), json.dumps(value), json.dumps(value, indent=1)):
            assert _same(loads(text), json.loads(text)), text


def test_loads_reads_random_number_spellings_as_json_does() -> None:
    rng = random.Random(7)
    for _ in range(20000):
        mantissa = str(rng.randrange(10 ** rng.randrange(1, 21)))
        if rng.random() < 0.5:
            cut = rng.randrange(len(mantissa))
            mantissa = (mantissa[:cut] or "0") + "." + (mantissa[cut:] or "0")
        text = ("-" if rng.random() < 0.3 else "") + mantissa
        if rng.random() < 0.5:
            text += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randrange(400))
        kind, expected = _outcome(text)
        if kind == "value":
            assert _same(loads(text), expected), text


def _random_text(rng: random.Random) -> str:
    return "".join(chr(rng.choice([rng.randrange(0, 0x80), rng.randrange(0x80, 0x800),
                                   rng.randrange(0x800, 0xD800), rng.randrange(0xE000, 0x110000)]))
                   for _ in range(rng.randrange(0, 40)))


def test_dumps_float_free_writes_result_records_as_dumps_does() -> None:
    rng = random.Random(20261207)
    for _ in range(5000):
        record = {"Cause": _random_text(rng), "Input": _random_text(rng) * 3,
                  "InputDetails": {"Included": rng.random() < 0.5}, "Error": None,
                  "RedriveCount": rng.randrange(-(2**63), 2**63), "Items": [_random_text(rng)]}
        assert dumps_float_free(record) == dumps(record).encode(), record
    for code in range(0x20):  # every control character, escaped as dumps escapes it
        assert dumps_float_free({"s": chr(code) + "\u2028\x7f/"}) == \
            dumps({"s": chr(code) + "\u2028\x7f/"}).encode()


def test_dumps_float_free_leaves_what_orjson_refuses_to_dumps() -> None:
    big = {"n": 2**64, "m": -(2**63) - 1}
    assert dumps_float_free(big) == dumps(big).encode()
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate: as dumps(...).encode()
        dumps_float_free({"s": "\ud800"})


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def test_dumps_stored_reads_back_as_the_same_value() -> None:
    rng = random.Random(20261208)
    checked = 0
    for _ in range(3000):
        value = _random_value(rng)
        if not _finite(value):
            continue
        text = dumps_stored(value)
        assert _same(loads(text), value), text
        assert _same(loads(text.encode()), value), text
        assert _same(json.loads(text), value), text
        checked += 1
    assert checked > 2500


def test_dumps_stored_leaves_what_orjson_refuses_to_dumps() -> None:
    record = {"name": "n", "output": '"\ud800"', "start": 1796618597.671, "n": 10**30}
    assert dumps_stored(record) == dumps(record)
    assert loads(dumps_stored({"s": "\ud800"})) == {"s": "\ud800"}


def test_loads_reads_bytes_as_json_does() -> None:
    for data in (b'{"a":[1,2.5,"\xc3\xa9"]}', b"\xef\xbb\xbf[1]", b'"\xed\xa0\x80"',
                 b"[1e400]", b"[NaN]", b"[" + b"1" * 25 + b"]"):
        assert _same(loads(data), json.loads(data)), data

"""The whole-block fast path of range children (issue 14, ``plain_json_items``): whenever it
answers, it answers exactly what the parser's ``json_blocks`` gives for the same bytes; it
declines every block with a quote, backslash, control character, CR, blank line or a line of
the wrong width (the parser then reads it)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from test_csv_json_texts import ALL

from orchestrator.readers._csv import DELIMITERS, MAX_RECORD_BYTES, CsvRecords, plain_json_items

HEADERS = ["id", "name", "amount"]


def _texts(data: bytes, headers: list[str], delimiter: str = "COMMA") -> list[str]:
    records = CsvRecords([data], delimiter=delimiter, header_location=None, headers=headers)
    return [text for block in records.json_blocks(1 << 30) for text in block]


def _parsed(data: bytes, headers: list[str], delimiter: str = "COMMA") -> str:
    return ",".join(_texts(data, headers, delimiter))


def _data_lines(data: bytes) -> bytes:
    """A case's bytes after its first line (a range never holds the header)."""
    return data.split(b"\n", 1)[1] if b"\n" in data else b""


@pytest.mark.parametrize(("data", "options"), [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_it_answers_as_the_parser_or_declines(data: bytes, options: dict[str, Any]) -> None:
    name = options.get("delimiter") or "COMMA"
    body = _data_lines(data)
    for headers in (["a", "b"], ["a", "b", "c"], ["x"]):
        plain = plain_json_items(body, headers, DELIMITERS[name])
        if plain is None:
            continue
        try:
            expected = _texts(body, headers, name)
        except Exception as exc:  # noqa: BLE001 - the parser fails: the fast path must decline
            pytest.fail(f"the fast path answered where the parser fails ({exc})")
        assert plain == (",".join(expected), len(expected))


def test_a_plain_block_is_formatted_without_the_parser() -> None:
    body = b"0,item-0,0\n1,item-1,7919\n2,100%s,%d\n"
    assert plain_json_items(body, HEADERS, ",") == (
        '{"id":"0","name":"item-0","amount":"0"},{"id":"1","name":"item-1","amount":"7919"},'
        '{"id":"2","name":"100%s","amount":"%d"}', 3)
    # No newline after the last line, one record, non-ASCII and U+2028 kept as they are.
    assert plain_json_items("é,\u2028,x".encode(), HEADERS, ",") == (
        '{"id":"é","name":"\u2028","amount":"x"}', 1)
    # Header names are JSON-escaped and may hold '%'.
    assert plain_json_items(b"1\t2\n", ['a"%s', "b"], "\t") == ('{"a\\"%s":"1","b":"2"}', 1)


@pytest.mark.parametrize("body", [
    b"1,2\n3,4,5\n",          # a short line (the parser pads it)
    b"1,2,3,4\n5,6,7\n",      # a long line (the parser drops the extra field)
    b"1,2,3\n\n4,5,6\n",      # a blank line (skipped by the parser)
    b"\n1,2,3\n",             # a blank first line
    b'1,"2",3\n',             # quotes
    b"1,2\\,x,3\n",           # a backslash escape
    b"1,2,3\r\n",             # CRLF
    b"1,\x01,3\n",            # a control character
    b"1,\t,3\n",              # a TAB in a comma file
    b"1,\xff,3\n",            # not UTF-8
    b"",                      # nothing
])
def test_it_declines_what_only_the_parser_reads_right(body: bytes) -> None:
    assert plain_json_items(body, HEADERS, ",") is None


def test_a_field_over_the_record_limit_is_left_to_the_parser() -> None:
    big = b"x" * (MAX_RECORD_BYTES + 1)
    assert plain_json_items(b"1,2,3\n" + big + b",2,3\n", HEADERS, ",") is None
    with pytest.raises(Exception, match="field larger than field limit"):
        _parsed(b"1,2,3\n" + big + b",2,3\n", HEADERS)


def test_random_blocks_agree_with_the_parser() -> None:
    rng = random.Random(20261207)
    alphabet = ["a", "b", "0", "9", " ", "-", "%", "é",
                "€", ",", "|", "\t", '"', "\\", "\r", "\x01"]
    answered = 0
    for _ in range(3000):
        name = rng.choice(["COMMA", "PIPE", "TAB", "SEMICOLON", "SPACE"])
        width = rng.randint(1, 4)
        headers = [f"h{i}" for i in range(width)]
        lines = []
        for _ in range(rng.randint(1, 6)):
            fields = ["".join(rng.choices(alphabet[:8] if rng.random() < 0.8 else alphabet,
                                          k=rng.randint(0, 4)))
                      for _ in range(width + (rng.random() < 0.1) - (rng.random() < 0.1))]
            lines.append(DELIMITERS[name].join(fields))
        body = ("\n".join(lines) + ("\n" if rng.random() < 0.7 else "")).encode()
        plain = plain_json_items(body, headers, DELIMITERS[name])
        if plain is not None:
            answered += 1
            expected = _texts(body, headers, name)
            assert plain == (",".join(expected), len(expected)), body
    assert answered > 500  # the generator exercises the fast path, not only its refusals

"""CSV rows written as JSON texts directly (issue 14): the same text, order and cursor as the
dict path, for every parsing rule of spec §2.3 and every way a chunk can cut the bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_csv_parsing import CASES, chunked

from orchestrator.jsontext import dumps
from orchestrator.readers._csv import CsvRecords

#: Inputs that mix rows written directly with rows that need the JSON encoder.
MIXED: list[tuple[str, bytes, dict[str, Any]]] = [
    ("plain_rows", b"id,name,amount\n0,item-0,0\n1,item-1,7919\n2,item-2,15838\n", {}),
    ("quoted_newline_between_plain_rows", b'a,b\n1,2\n"x\ny",3\n4,5\n', {}),
    ("crlf_and_bom", "\ufeffid,v\r\n1,a\r\n2,b\r\n".encode(), {}),
    ("control_character_in_a_value", b"a,b\n1,x\x01y\n2,z\n", {}),
    ("tab_in_a_comma_file", b"a,b\n1,x\ty\n2,z\n", {}),
    ("tab_delimiter_with_plain_rows", b"a\tb\n1\t2\n3\t4\n", {"delimiter": "TAB"}),
    ("tab_inside_quotes_in_a_tab_file", b'a\tb\n"1\t2"\t3\n4\t5\n', {"delimiter": "TAB"}),
    ("backslash_rows_among_plain_ones", b"a,b\n1,2\nx\\,y,z\n3,4\n", {}),
    ("percent_signs_in_header_and_values", b"%s,100%\n%d,50%\n%(x)s,%%\n", {}),
    ("quote_and_backslash_in_header_names", b'"a""b",c\\\\d\n1,2\n', {}),
    ("non_ascii_and_line_separator", "k,v\nü€,\u2028x\u007f\n".encode(), {}),
    ("short_long_and_blank_rows", b"a,b,c\n1\n\n1,2,3,4\n,,\n", {}),
    ("given_headers", b"1,2\n3,4\n", {"header_location": "GIVEN", "headers": ["x", "y"]}),
    ("lone_cr_line_ends", b"a,b\r1,2\r3,4", {}),
    # A backslash escapes the newline: the record's last line can be in a chunk of its own.
    ("backslash_escaped_newline_across_chunks", b"a,b\n1,x\\\ny\n2,3\n", {}),
]

ALL = [(name, data, options) for name, data, options, _ in CASES] + MIXED


def _records(data: bytes, chunk: int, options: dict[str, Any]) -> CsvRecords:
    opts = {"delimiter": None, "header_location": "FIRST_ROW", **options}
    return CsvRecords(chunked(data, chunk), **opts)


def _with_positions(records: CsvRecords, values: Iterator[Any]) -> list[tuple[Any, Any]]:
    return [(value, records.position()) for value in values]


def _resumed(data: bytes, position: dict[str, Any], options: dict[str, Any]) -> CsvRecords:
    opts = {"delimiter": None, "header_location": "FIRST_ROW", **options}
    opts["headers"] = position["headers"]
    return CsvRecords([data[position["offset"]:]], offset=position["offset"],
                      line=position["line"], **opts)


@pytest.mark.parametrize("chunk", [1, 3, 7, 9, 1 << 20])
@pytest.mark.parametrize(("data", "options"), [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_json_texts_are_the_dumps_of_the_records_with_the_same_cursor(
    data: bytes, options: dict[str, Any], chunk: int
) -> None:
    dicts = _records(data, chunk, options)
    expected = [([dumps(record)], position)
                for record, position in _with_positions(dicts, iter(dicts))]
    texts = _records(data, chunk, options)
    assert _with_positions(texts, texts.json_blocks(1)) == expected


@pytest.mark.parametrize("rows", [2, 3, 1000])
@pytest.mark.parametrize(("data", "options"), [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_blocks_of_texts_resume_exactly_after_each_block(
    data: bytes, options: dict[str, Any], rows: int
) -> None:
    expected = [dumps(record) for record in _records(data, 1 << 20, options)]
    texts = _records(data, 5, options)
    seen: list[str] = []
    for block in texts.json_blocks(rows):
        assert 0 < len(block) <= rows
        seen += block
        rest = [t for b in _resumed(data, texts.position(), options).json_blocks(rows) for t in b]
        assert seen + rest == expected
    assert seen == expected


def test_plain_rows_skip_the_encoder_and_read_back_as_the_records() -> None:
    data = b"id,name\n" + b"".join(b"%d,item-%d\n" % (i, i) for i in range(1000))
    blocks = list(_records(data, 4096, {}).json_blocks(300))
    assert [len(b) for b in blocks] == [300, 300, 300, 100]
    assert [json.loads(t) for b in blocks for t in b] == [
        {"id": str(i), "name": f"item-{i}"} for i in range(1000)]

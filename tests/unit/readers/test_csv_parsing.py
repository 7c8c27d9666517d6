"""CSV parsing rules of spec §2.3, on in-memory bytes (no S3)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers._csv import CsvRecords


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def parse(data: bytes, *, chunk: int = 1 << 20, **options: Any) -> list[dict[str, str]]:
    options.setdefault("delimiter", None)
    options.setdefault("header_location", "FIRST_ROW")
    return list(CsvRecords(chunked(data, chunk), **options))


CASES: list[tuple[str, bytes, dict[str, Any], list[dict[str, str]]]] = [
    (
        "values_stay_strings",
        b"a,b,c,d\ntrue,1,Null,   \n",
        {},
        [{"a": "true", "b": "1", "c": "Null", "d": "   "}],
    ),
    (
        "quoted_field_holds_delimiter_and_newline",
        b'a,b\n"x, y","line1\nline2"\n',
        {},
        [{"a": "x, y", "b": "line1\nline2"}],
    ),
    ("doubled_quote_is_one_quote", b'a\n"say ""hi"""\n', {}, [{"a": 'say "hi"'}]),
    # AWS's "How Step Functions parses input CSV files" example: an unquoted field too.
    (
        "doubled_quote_in_an_unquoted_field_is_one_quote",
        b'a,b,c,d,e\nabc,123,"commas, quotes (""), newline (\n)",{""MyKey"":""MyValue""},"[1,2,3]"\n',
        {},
        [{"a": "abc", "b": "123", "c": 'commas, quotes ("), newline (\n)',
          "d": '{"MyKey":"MyValue"}', "e": "[1,2,3]"}],
    ),
    ("backslash_escapes_backslash", b"path,size\nC:\\\\Program Files\\\\x.exe,6\n", {},
     [{"path": "C:\\Program Files\\x.exe", "size": "6"}]),
    ("backslash_escapes_delimiter", b"a,b\nx\\,y,z\n", {}, [{"a": "x,y", "b": "z"}]),
    ("backslash_escapes_quote_pair", b'a\nsay \\"hi\\"\n', {}, [{"a": 'say "hi"'}]),
    ("backslash_before_other_char_is_dropped", b"a\n\\q\\w\n", {}, [{"a": "qw"}]),
    ("short_row_is_padded", b"a,b,c\n1\n", {}, [{"a": "1", "b": "", "c": ""}]),
    ("extra_fields_are_dropped", b"a,b,c\n,,,\n1,2,3,4,5\n", {},
     [{"a": "", "b": "", "c": ""}, {"a": "1", "b": "2", "c": "3"}]),
    ("empty_header_name_is_allowed", b"H1,\nx,y\n", {}, [{"H1": "x", "": "y"}]),
    ("trailing_newline_adds_no_item", b"a\n1\n2\n", {}, [{"a": "1"}, {"a": "2"}]),
    ("no_trailing_newline", b"a\n1\n2", {}, [{"a": "1"}, {"a": "2"}]),
    ("crlf_line_endings", b"a,b\r\n1,2\r\n3,4\r\n", {},
     [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]),
    ("cr_line_endings", b"a,b\r1,2\r", {}, [{"a": "1", "b": "2"}]),
    ("blank_lines_are_skipped", b"a\n1\n\n2\n\n", {}, [{"a": "1"}, {"a": "2"}]),
    ("header_only_file_has_no_items", b"a,b\n", {}, []),
    ("empty_file_has_no_items", b"", {}, []),
    (
        "given_headers_make_every_record_data",
        b"1,307,3.5\n1,481,3.5\n",
        {"header_location": "GIVEN", "headers": ["userId", "movieId", "rating"]},
        [{"userId": "1", "movieId": "307", "rating": "3.5"},
         {"userId": "1", "movieId": "481", "rating": "3.5"}],
    ),
    ("pipe_delimiter", b"a|b\n1,2|3\n", {"delimiter": "PIPE"}, [{"a": "1,2", "b": "3"}]),
    ("semicolon_delimiter", b"a;b\n1;2\n", {"delimiter": "SEMICOLON"}, [{"a": "1", "b": "2"}]),
    ("space_delimiter", b"a b\n1 2\n", {"delimiter": "SPACE"}, [{"a": "1", "b": "2"}]),
    ("tab_delimiter", b"a\tb\n1 x\t2\n", {"delimiter": "TAB"}, [{"a": "1 x", "b": "2"}]),
    ("backslash_escapes_active_delimiter", b"a|b\nx\\|y|z\n", {"delimiter": "PIPE"},
     [{"a": "x|y", "b": "z"}]),
    ("utf8_values", "k\nüñí€\n".encode(), {}, [{"k": "üñí€"}]),
]


@pytest.mark.parametrize(("data", "options", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_csv_rule(data: bytes, options: dict[str, Any], expected: list[dict[str, str]]) -> None:
    assert parse(data, **options) == expected


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8])
def test_records_split_across_chunks_parse_the_same(chunk: int) -> None:
    data = 'id,text\n1,"a\r\nb"\n2,ü€\\,x\n3,"q""q"\r\n'.encode()
    assert parse(data, chunk=chunk) == [
        {"id": "1", "text": "a\r\nb"},
        {"id": "2", "text": "ü€,x"},
        {"id": "3", "text": 'q"q'},
    ]


@pytest.mark.parametrize(
    ("options", "data"),
    [
        ({"header_location": "GIVEN", "headers": ["a", "b", "a"]}, b"1,2,3\n"),
        ({}, b"a,b,a\n1,2,3\n"),
        ({}, b"H1,,\nx,y,z\n"),
    ],
    ids=["given", "first_row", "two_empty_names"],
)
def test_duplicate_headers_fail_with_the_aws_cause(options: dict[str, Any], data: bytes) -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        parse(data, **options)
    assert raised.value.error == "States.ItemReaderFailed"
    assert raised.value.cause == "CSV headers cannot contain duplicates."


def test_header_larger_than_10_kib_fails() -> None:
    header = ",".join(f"column_{i:05d}" for i in range(1000)).encode()  # 12,999 bytes
    with pytest.raises(ItemReaderFailed) as raised:
        parse(header + b"\n1\n", where="s3://b/k.csv")
    assert raised.value.cause == (
        "The CSV header of s3://b/k.csv is larger than 10240 bytes (10 KiB)."
    )


def test_invalid_utf8_names_the_line_and_byte_offset() -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        parse(b"a\nok\nbad\xff\n", where="s3://b/k.csv")
    assert raised.value.cause == "Invalid UTF-8 in CSV s3://b/k.csv at line 3 (byte offset 8)."
    assert isinstance(raised.value.__cause__, UnicodeDecodeError)


def test_unknown_delimiter_is_rejected() -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        parse(b"a\n1\n", delimiter="COLON", where="s3://b/k.csv")
    assert raised.value.cause == (
        "Unsupported CSVDelimiter 'COLON' for s3://b/k.csv; "
        "expected one of COMMA, PIPE, SEMICOLON, SPACE, TAB."
    )


def test_a_line_longer_than_the_item_limit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orchestrator.readers._csv.MAX_RECORD_BYTES", 16)
    with pytest.raises(ItemReaderFailed) as raised:
        parse(b"a\n" + b"x" * 40, chunk=8, where="s3://b/k.csv")
    assert raised.value.cause == (
        "A CSV row of s3://b/k.csv at line 2 (byte offset 2) is larger than 16 bytes."
    )


def test_position_is_the_byte_offset_after_each_record() -> None:
    data = b'a,b\n1,"x\ny"\r\n\n2,3\n4'
    records = CsvRecords(chunked(data, 3), delimiter="COMMA", header_location="FIRST_ROW")
    seen = [(record, records.position()) for record in records]
    assert seen == [
        ({"a": "1", "b": "x\ny"}, {"offset": 13, "line": 3, "headers": ["a", "b"]}),
        ({"a": "2", "b": "3"}, {"offset": 18, "line": 5, "headers": ["a", "b"]}),
        ({"a": "4", "b": ""}, {"offset": 19, "line": 6, "headers": ["a", "b"]}),
    ]


def test_parsing_resumed_at_a_position_continues_the_stream() -> None:
    data = b"a,b\n1,2\n3,4\n5,6\n"
    first = CsvRecords(chunked(data, 4), delimiter=None, header_location="FIRST_ROW")
    iterator = iter(first)
    assert next(iterator) == {"a": "1", "b": "2"}
    position = first.position()
    rest = CsvRecords(
        [data[position["offset"]:]], delimiter=None, header_location="FIRST_ROW",
        headers=position["headers"], offset=position["offset"], line=position["line"],
    )
    assert list(rest) == [{"a": "3", "b": "4"}, {"a": "5", "b": "6"}]
    assert rest.position() == {"offset": 16, "line": 4, "headers": ["a", "b"]}


def test_a_field_over_the_size_limit_fails_naming_the_line() -> None:
    previous = csv.field_size_limit(10)
    try:
        with pytest.raises(ItemReaderFailed) as raised:
            parse(b'a\nok\n"' + b"x" * 20 + b'"\n', where="s3://b/k.csv")
    finally:
        csv.field_size_limit(previous)
    assert raised.value.cause == (
        "Cannot parse CSV s3://b/k.csv at line 3: field larger than field limit (10)"
    )

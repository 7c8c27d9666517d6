"""RFC 3339 timestamps as ASL reads and writes them (spec 5.2, 5.4)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.asl._timestamps import format_timestamp, parse_timestamp

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-03-14T01:59:00Z", datetime(2016, 3, 14, 1, 59, 0, tzinfo=UTC)),
        ("2016-03-14T01:59:00.123Z", datetime(2016, 3, 14, 1, 59, 0, 123000, tzinfo=UTC)),
        ("2016-03-14T01:59:00.123456789Z", datetime(2016, 3, 14, 1, 59, 0, 123456, tzinfo=UTC)),
        ("2016-03-14T01:59:00.5Z", datetime(2016, 3, 14, 1, 59, 0, 500000, tzinfo=UTC)),
        ("2016-03-14T01:59:00+00:00", datetime(2016, 3, 14, 1, 59, 0, tzinfo=UTC)),
        ("2016-03-14T03:59:00+02:00", datetime(2016, 3, 14, 1, 59, 0, tzinfo=UTC)),
        ("2016-03-13T23:29:00-02:30", datetime(2016, 3, 14, 1, 59, 0, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_parse_accepts_rfc3339_timestamps(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


def test_parse_keeps_the_offset() -> None:
    parsed = parse_timestamp("2016-03-14T03:59:00+02:00")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    "text",
    [
        "2016-03-14t01:59:00Z",
        "2016-03-14T01:59:00z",
        "2016-03-14 01:59:00Z",
        "2016-03-14T01:59:00",
        "2016-03-14",
        "2016-3-14T01:59:00Z",
        "2016-03-14T01:59Z",
        "2016-03-14T01:59:00.Z",
        "2016-03-14T01:59:00+0200",
        "2016-03-14T01:59:00+24:00",
        "2023-02-29T00:00:00Z",
        "2016-13-01T00:00:00Z",
        "2016-03-14T24:00:00Z",
        "2016-03-14T01:59:60Z",
        " 2016-03-14T01:59:00Z",
        "2016-03-14T01:59:00Z ",
        "",
        "２０１６-03-14T01:59:00Z",
    ],
)
def test_parse_refuses_what_asl_does_not_accept(text: str) -> None:
    assert parse_timestamp(text) is None


def test_parse_refuses_non_strings() -> None:
    assert parse_timestamp(12345) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2019, 3, 26, 20, 14, 13, tzinfo=UTC), "2019-03-26T20:14:13Z"),
        (datetime(2019, 3, 26, 20, 14, 13, 192000, tzinfo=UTC), "2019-03-26T20:14:13.192Z"),
        (datetime(2019, 3, 26, 20, 14, 13, 100000, tzinfo=UTC), "2019-03-26T20:14:13.100Z"),
        (datetime(2019, 3, 26, 20, 14, 13, 192001, tzinfo=UTC), "2019-03-26T20:14:13.192001Z"),
        (datetime(2019, 3, 26, 20, 14, 13, 1, tzinfo=UTC), "2019-03-26T20:14:13.000001Z"),
        (datetime(2019, 3, 26, 22, 14, 13, tzinfo=timezone(timedelta(hours=2))),
         "2019-03-26T20:14:13Z"),
        (datetime(2019, 3, 26, 20, 14, 13), "2019-03-26T20:14:13Z"),
        (datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC), "0005-01-02T03:04:05Z"),
    ],
)
def test_format_writes_utc_with_trimmed_fraction(value: datetime, expected: str) -> None:
    assert format_timestamp(value) == expected


def test_format_then_parse_round_trips() -> None:
    value = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert parse_timestamp(format_timestamp(value)) == value

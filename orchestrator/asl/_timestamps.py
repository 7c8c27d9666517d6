"""RFC 3339 timestamps as the States Language reads and writes them (spec 5.2 Wait, 5.4).

ASL accepts ``YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`` with an uppercase ``T`` and
``Z``; a lowercase ``t``/``z``, a space separator or a missing offset is not a timestamp.
Fractions longer than microseconds are truncated (Python's datetime resolution; AWS itself
truncates Wait timestamps to milliseconds, which the caller may do).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))"
)

_UTC = timezone.utc


def parse_timestamp(text: str) -> datetime | None:
    """Parse an ASL timestamp.

    Args:
        text: the candidate string.

    Returns:
        An aware datetime, or None when ``text`` is not an RFC 3339 timestamp ASL accepts
        (wrong shape, impossible date such as February 30, offset beyond 23:59).
    """
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction + "000000")[:6]) if fraction else 0
    if zulu:
        tz = _UTC
    else:
        hours, minutes = int(off_h), int(off_m)
        if hours > 23 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-delta if sign == "-" else delta) if delta else _UTC
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError:  # month 13, day 31 in April, second 60, ...
        return None


def format_timestamp(dt: datetime) -> str:
    """Format a time the way the context object shows it (spec 5.4).

    ISO-8601 in UTC with a ``Z``; fractional seconds use 0, 3 or 6 digits, dropping trailing
    groups of zeros (``...:13Z``, ``...:13.192Z``, ``...:13.192001Z``). A naive datetime is
    taken to be UTC already.

    Args:
        dt: the time.

    Returns:
        The formatted string.
    """
    if dt.tzinfo is not None:
        dt = dt.astimezone(_UTC)
    base = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T"
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    )
    micro = dt.microsecond
    if micro == 0:
        return base + "Z"
    if micro % 1000 == 0:
        return f"{base}.{micro // 1000:03d}Z"
    return f"{base}.{micro:06d}Z"

"""The Map Run API's page positions refuse anything but an integer in range (issue 9)."""

from __future__ import annotations

import base64

import pytest

from orchestrator.executions.errors import InvalidToken
from orchestrator.maprun.api import _offset, _token


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("payload", [
    '{"o": 1e999}', '{"o": -1}', '{"o": 0.5}', '{"o": "3"}', '{"o": true}', '{"o": null}',
    '{"o": 100000001}', "[]", "{}", "NaN",
])
def test_forged_offsets_are_invalid_tokens(payload: str) -> None:
    with pytest.raises(InvalidToken):
        _offset(encoded(payload))


@pytest.mark.parametrize("token", ["***", "\ud800", "a" * 5000, "e30"])
def test_garbage_is_an_invalid_token(token: str) -> None:
    with pytest.raises(InvalidToken):
        _offset(token)


@pytest.mark.parametrize("offset", [0, 1, 100, 100_000_000])
def test_offsets_round_trip(offset: int) -> None:
    assert _offset(_token(offset)) == offset
    assert _offset(None) == 0

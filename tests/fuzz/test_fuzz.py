"""CI-sized fuzz campaign against a real server and Redis (the long form: ``python -m
tests.fuzz``)."""

from __future__ import annotations

import pytest

from tests.fuzz.campaign import run

pytestmark = pytest.mark.integration


def test_fuzzed_requests_and_definitions_never_get_a_5xx_or_a_dropped_connection(
    redis_url: str,
) -> None:
    figures = run(redis_url, requests=1_500, definition_count=300, seed=9)
    print(figures.summary())
    assert figures.requests["aws"] > 500 and figures.requests["v1"] > 500
    assert figures.server_errors == []
    assert figures.dropped == []
    assert figures.failed_probes == 0
    assert figures.wrong_shape == []
    assert figures.definitions["accepted"] + figures.definitions["refused"] == 300
    assert figures.engine_failures == []

"""ToleratedFailureCount / ToleratedFailurePercentage (spec 2.6)."""

from __future__ import annotations

import pytest

from orchestrator.maprun.tolerance import ToleratedFailure


@pytest.mark.parametrize(
    ("rule", "failed", "timed_out", "total", "known", "expected"),
    [
        # defaults: any single failed or timed-out item fails the run
        (ToleratedFailure(), 0, 0, 10, True, False),
        (ToleratedFailure(), 1, 0, 10, True, True),
        (ToleratedFailure(), 0, 1, 10, False, True),
        # count: fails only when failures EXCEED the count
        (ToleratedFailure(count=2), 2, 0, 10, True, False),
        (ToleratedFailure(count=2), 3, 0, 10, True, True),
        (ToleratedFailure(count=2), 2, 1, 10, False, True),
        (ToleratedFailure(count=0), 1, 0, 10, True, True),
        # percentage: (failed + timed out) / total * 100 > percentage
        (ToleratedFailure(percentage=25), 2, 0, 10, True, False),
        (ToleratedFailure(percentage=25), 3, 0, 10, True, True),
        (ToleratedFailure(percentage=20), 2, 0, 10, True, False),
        (ToleratedFailure(percentage=100), 10, 0, 10, True, False),
        (ToleratedFailure(percentage=0), 1, 0, 10, True, True),
        (ToleratedFailure(percentage=2.5), 1, 0, 40, True, False),
        (ToleratedFailure(percentage=2.5), 2, 0, 40, True, True),
        # percentage waits for the full item count
        (ToleratedFailure(percentage=25), 9, 0, 10, False, False),
        # both set: exceeding either fails
        (ToleratedFailure(count=5, percentage=10), 2, 0, 10, True, True),
        (ToleratedFailure(count=1, percentage=50), 2, 0, 10, True, True),
        (ToleratedFailure(count=5, percentage=50), 2, 0, 10, True, False),
    ],
)
def test_threshold_is_exceeded_exactly(rule: ToleratedFailure, failed: int, timed_out: int,
                                       total: int, known: bool, expected: bool) -> None:
    assert rule.exceeded(failed=failed, timed_out=timed_out, total=total, total_known=known) is expected

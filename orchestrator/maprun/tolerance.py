"""ToleratedFailureCount / ToleratedFailurePercentage (spec 2.6), as a pure rule.

Failed and timed-out *items* count (a batch weighs its item count). The Map Run fails when
they exceed the count, or when they exceed the percentage of the total items; with both set,
exceeding either fails it; with neither set, a single failure fails it (both default to 0).

Decision (spec 8.3, unverified): the percentage is evaluated against the full item count, so
it is only checked once the reader has read every item; until then a percentage-only run
keeps going (AWS also documents that children may still run after the threshold is crossed).
The count threshold is checked at once, and timed-out items count toward it as well.

The store's grant applies the same rule to the counters atomically
(``orchestrator/store/lua/grant_permits.lua``, and ``MemoryMapRunStore._over_threshold``), so no
child is dispatched between the failure that crosses the threshold and the Map Run being marked
failed; keep the three in step (the store contract test checks the two stores agree).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ToleratedFailure:
    """The thresholds in force on a Map Run (None = not set)."""

    count: int | None = None
    percentage: float | None = None

    def exceeded(self, *, failed: int, timed_out: int, total: int, total_known: bool) -> bool:
        """Whether the failures so far fail the Map Run."""
        bad = failed + timed_out
        if bad <= 0:
            return False
        if self.count is None and self.percentage is None:
            return True
        if self.count is not None and bad > self.count:
            return True
        if self.percentage is not None and total_known and total > 0:
            return bad * 100.0 > self.percentage * total
        return False

"""The bench's batch-1 ratios (``bench/__main__.py annotate_batch1``): best against best, and
median against median once the group and the Map Runs ran several times."""

from __future__ import annotations

import statistics

import pytest

from bench.__main__ import annotate_batch1
from bench.maprun import Figure


def _fig(rates: list[float]) -> Figure:
    fig = Figure("runs", 1000, 1000 / max(rates), "per s")
    if len(rates) > 1:
        fig.extra["rates"] = rates
        fig.extra["median_rate"] = statistics.median(rates)
    return fig


def test_repeated_runs_compare_best_with_best_and_median_with_median() -> None:
    figures = {"group": _fig([500.0, 870.0, 700.0]),
               "batch1": _fig([5000.0, 8000.0, 7000.0]),
               "batch1_standard": _fig([3000.0, 4500.0, 4000.0])}
    annotate_batch1(figures)
    assert figures["batch1"].extra["ratio_to_group"] == pytest.approx(8000 / 870)
    assert figures["batch1"].extra["median_ratio_to_group"] == pytest.approx(7000 / 700)
    assert figures["batch1_standard"].extra["median_ratio_to_group"] == pytest.approx(4000 / 700)


def test_single_runs_and_the_delay_section_get_the_plain_ratio() -> None:
    figures = {"delay_group": _fig([200.0]), "delay_batch1": _fig([3000.0])}
    annotate_batch1(figures)
    assert figures["delay_batch1"].extra["ratio_to_group"] == pytest.approx(15.0)
    assert "median_ratio_to_group" not in figures["delay_batch1"].extra


def test_the_report_names_the_redis_bytes_per_pending_item_of_the_held_run() -> None:
    from bench import csvbase

    held = Figure("CSV 1,000,000 rows read at MaxConcurrency 1", 999_000, 1.0, "items read/s",
                  {"redis_bytes_per_pending_item": 2.4, "redis_pending_items": 999_000,
                   "redis_growth_mb": 2.3})
    lines = csvbase.report_lines({"pending_memory": held})
    assert any("Redis 2 B per pending item (goal <= 200): 2.3 MiB for 999,000 items" in line
               for line in lines)

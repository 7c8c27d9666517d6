"""The demo's live rate and its note on throughput settings (no stack needed)."""

from __future__ import annotations

from orchestrator.demo import Rate, example_definition, throughput_note


def test_rate_reports_items_per_second_and_eta_over_its_window() -> None:
    rate = Rate(window=5.0)
    assert rate.describe(100) == "— items/s  ETA —"
    rate.add(0.0, 0)
    rate.add(2.0, 200)
    assert rate.per_second() == 100.0
    assert rate.describe(500) == "100 items/s  ETA 5 s"
    rate.add(10.0, 300)  # the first samples leave the window
    assert rate.per_second() == 12.5


def test_throughput_note_names_the_example_settings() -> None:
    note = throughput_note(example_definition())
    assert "100 rows per child" in note and "at most 8 children" in note

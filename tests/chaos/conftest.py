"""Configuration of the chaos tier (``chaos_campaign.py`` holds the campaign)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``slow`` marker (the suite runs with --strict-markers)."""
    config.addinivalue_line("markers", "slow: takes more than a few seconds of real time")

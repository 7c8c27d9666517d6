"""Configuration of the end-to-end tests.

The helpers live in ``e2e_support.py`` (importable by the test modules as ``e2e_support``:
pytest puts this folder on ``sys.path`` since ``tests/`` has no ``__init__.py``); each test
module builds its own stack with ``e2e_support.make_stack`` in a module-scoped fixture, so the
stack's shape (workers, leases, visibility timeout) fits what the module proves.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``slow`` marker (the suite runs with --strict-markers)."""
    config.addinivalue_line("markers", "slow: takes more than a few seconds of real time")

"""Read-only views for operators: open Map Runs, queue depths, failure rows.

Feeds the web console and ``/metrics``. Everything here is read from counters, indexes and
Celery queue lengths (a fixed number of Redis reads per open Map Run), never from a scan over
items or children.
"""

from __future__ import annotations

from orchestrator.insight.reads import InsightReader, MapRunReads, RunSnapshot, machine_name

__all__ = ["InsightReader", "MapRunReads", "RunSnapshot", "machine_name"]

"""Prometheus metrics at ``/metrics`` (no auth, like ``/healthz``: counts and ARNs only).

Read at scrape time from counters (one DescribeMapRun per open Map Run, one LLEN per queue),
so the cost of a scrape grows with open runs, not with items. Child durations and errors by
name are totals the control process keeps where it records outcomes
(:mod:`orchestrator.store.child_metrics`: one HGETALL, bounded by state machines x statuses
or error names). Per-run series carry the Map Run ARN as a label and disappear when the run
closes: their number is bounded by the open runs. Every API replica reports the same figures (they read the same Redis): aggregate with
``max``, not ``sum``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from orchestrator.api.reads import app_insight
from orchestrator.executions.map_run_control import MapRunControl
from orchestrator.insight.tally import FINISHED, Tally
from orchestrator.store.child_metrics import (
    BUCKETS,
    ERROR_NAMES_CAP,
    OTHER_ERROR,
    ChildMetrics,
    ChildMetricsSnapshot,
    RedisChildMetrics,
)

#: DescribeMapRun item count names reported by ``stepmap_map_run_items``.
ITEM_STATES = {"pending": "PENDING", "running": "RUNNING", **FINISHED}

#: Every metric name this module exports (the Grafana dashboard test checks against it).
METRIC_NAMES = (
    "stepmap_open_map_runs",
    "stepmap_map_run_items",
    "stepmap_map_run_running_children",
    "stepmap_map_run_concurrency_limit",
    "stepmap_children_backlog",
    "stepmap_queue_messages",
    "stepmap_items_total",
    "stepmap_child_executions_total",
    "stepmap_child_duration_seconds_bucket",
    "stepmap_child_duration_seconds_sum",
    "stepmap_child_duration_seconds_count",
    "stepmap_child_errors_total",
    "stepmap_open_map_runs_limit",
    "stepmap_map_run_backlog",
    "stepmap_paused_map_runs",
)


class StepmapCollector(Collector):
    """Collects stepmap's figures for one API app."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._tally = Tally()

    def collect(self) -> Iterator[Metric]:
        """Read the open runs and queues once and yield every family."""
        reader = app_insight(self._app)
        ceiling = self._app.state.settings.limits.max_concurrency_ceiling
        runs = reader.open_runs()
        self._tally.update(runs, reader.describe)

        labels = ["map_run_arn", "state_machine"]
        open_runs = GaugeMetricFamily("stepmap_open_map_runs",
                                      "Map Runs admitted and not finished yet.")
        open_runs.add_metric([], len(runs))
        items = GaugeMetricFamily("stepmap_map_run_items", "Items of an open Map Run by status.",
                                  labels=[*labels, "status"])
        running = GaugeMetricFamily("stepmap_map_run_running_children",
                                    "Child executions running now in an open Map Run.",
                                    labels=labels)
        limit = GaugeMetricFamily("stepmap_map_run_concurrency_limit",
                                  "Concurrent children allowed (MaxConcurrency; 0 means the "
                                  "ceiling, reported as its value).", labels=labels)
        backlog = GaugeMetricFamily("stepmap_children_backlog",
                                    "Child executions of open Map Runs waiting to run or "
                                    "running (what children workers have to do).")
        waiting = 0
        for run in runs:
            values = [run.arn, run.machine]
            for name, status in ITEM_STATES.items():
                items.add_metric([*values, status], run.items.get(name, 0))
            running.add_metric(values, run.executions.get("running", 0))
            limit.add_metric(values, int(run.described.get("maxConcurrency") or 0) or ceiling)
            waiting += run.executions.get("pending", 0) + run.executions.get("running", 0)
        backlog.add_metric([], waiting)
        paused = GaugeMetricFamily("stepmap_paused_map_runs",
                                   "Open Map Runs paused now (stepmap extension).")
        paused.add_metric([], sum(1 for run in runs
                                  if (run.described.get("stepmap") or {}).get("paused")))

        queues = GaugeMetricFamily("stepmap_queue_messages",
                                   "Messages waiting in a Celery queue (Redis LLEN).",
                                   labels=["queue"])
        for queue, depth in reader.queue_depths().items():
            queues.add_metric([queue], depth)

        item_totals, child_totals = self._tally.snapshot()
        item_counter = CounterMetricFamily(
            "stepmap_items", "Items finished, by state machine and status (since API start).",
            labels=["state_machine", "status"])
        for (machine, status), value in sorted(item_totals.items()):
            item_counter.add_metric([machine, status], value)
        child_counter = CounterMetricFamily(
            "stepmap_child_executions",
            "Map Run child executions finished, by state machine and status (since API start).",
            labels=["state_machine", "status"])
        for (machine, status), value in sorted(child_totals.items()):
            child_counter.add_metric([machine, status], value)
        yield from (open_runs, items, running, limit, backlog, paused, queues, item_counter,
                    child_counter)
        yield from self._admission()
        yield from child_families(self._child_metrics().snapshot())

    def _admission(self) -> Iterator[Metric]:
        """The admission gate: the open-Map-Run limit and the backlog behind it."""
        map_runs = self._app.state.service.map_runs
        if not isinstance(map_runs, MapRunControl):
            return
        state = map_runs.describe_admission()
        limit = GaugeMetricFamily("stepmap_open_map_runs_limit",
                                  "Map Runs allowed open at once (0: no limit); more wait in "
                                  "the admission backlog.")
        limit.add_metric([], state["openMapRunLimit"])
        backlog = GaugeMetricFamily("stepmap_map_run_backlog",
                                    "Map Runs started and waiting for admission.")
        backlog.add_metric([], state["backlogSize"])
        yield from (limit, backlog)

    def _child_metrics(self) -> ChildMetrics:
        metrics: ChildMetrics | None = getattr(self._app.state, "child_metrics", None)
        if metrics is None:
            settings = self._app.state.settings
            metrics = RedisChildMetrics.from_url(settings.redis.url, settings.redis.key_prefix)
            self._app.state.child_metrics = metrics
        return metrics


def child_families(snap: ChildMetricsSnapshot) -> Iterator[Metric]:
    """The duration histogram and the error counter of finished children (control-recorded)."""
    duration = HistogramMetricFamily(
        "stepmap_child_duration_seconds",
        "Duration of Map Run child executions that ran, by state machine and status.",
        labels=["state_machine", "status"])
    bounds = [*(f"{b:g}" for b in BUCKETS), "+Inf"]
    for (machine, status), counts in sorted(snap.buckets.items()):
        cumulative = list(itertools.accumulate(counts))
        duration.add_metric([machine, status], list(zip(bounds, cumulative, strict=True)),
                            snap.seconds.get((machine, status), 0.0))
    errors = CounterMetricFamily(
        "stepmap_child_errors",
        f"Map Run children that ended with an error, by state machine and error name (the "
        f"first {ERROR_NAMES_CAP} names; later ones as '{OTHER_ERROR}').",
        labels=["state_machine", "error"])
    for (machine, error), value in sorted(snap.errors.items()):
        errors.add_metric([machine, error], value)
    yield from (duration, errors)


def install(app: FastAPI) -> None:
    """Serve ``GET /metrics`` from a registry of this app's own (one per app, not global)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StepmapCollector(app))

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics (no auth)",
             response_class=Response)
    async def metrics(_: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

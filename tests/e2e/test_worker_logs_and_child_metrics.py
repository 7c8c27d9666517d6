"""Workers' JSON log lines name the child, its Map Run and the Celery task; ``/metrics`` shows
child durations and handler errors by name that the control process counted.

One stack with ``STEPMAP_LOG_FORMAT=json``: a Map Run whose handler fails some items, then its
children worker's log file and a scrape of ``/metrics``. Waits poll for a state; no assertion is
about time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import E2E, distributed_map, make_stack, probe_task, scrape_metrics

from orchestrator.api.metrics import METRIC_NAMES

FAIL_IDS = [1, 4]
ITEMS = 6


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"log_format": "json"}, workers=1, concurrency=2)


@pytest.fixture(scope="module")
def failed_run(e2e: E2E) -> dict[str, Any]:
    """A finished run of ITEMS items, FAIL_IDS failing in the handler: its names and ARNs."""
    machine = e2e.unique("logs")
    definition = distributed_map(probe_task("probe-fail"), "Work", ToleratedFailurePercentage=100)
    ns = e2e.unique("logs")
    payload = [{"probe": ns, "id": i, "fail_ids": FAIL_IDS} for i in range(ITEMS)]
    execution = e2e.start(e2e.create_machine({**definition, "States": {"Map": {
        **definition["States"]["Map"], "ItemsPath": "$.items"}}}, name=machine),
        {"items": payload})
    assert e2e.wait(execution)["status"] == "SUCCEEDED"
    map_run = e2e.wait_map_run(execution)
    failed = [c["executionArn"] for c in e2e.children(map_run, status="FAILED")]
    assert len(failed) == len(FAIL_IDS)
    return {"machine": machine, "map_run": map_run, "failed": failed}


def _json_lines(e2e: E2E, kind: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for name in e2e.stack.worker_names(kind):  # type: ignore[arg-type]
        for line in e2e.stack.processes[name].log_path.read_text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def test_a_failing_child_logs_a_json_line_with_its_arn_its_map_run_and_task(
        e2e: E2E, failed_run: dict[str, Any]) -> None:
    lines = _json_lines(e2e, "children")
    failures = [line for line in lines if line.get("execution_arn") in failed_run["failed"]]
    assert {line["execution_arn"] for line in failures} == set(failed_run["failed"])
    for line in failures:
        assert line["map_run_arn"] == failed_run["map_run"]
        assert line["child"] == line["execution_arn"].rsplit(":", 1)[-1]
        assert line["task_id"] and line["level"] == "WARNING"
        assert "Probe.Failure" in line["message"]


def test_metrics_count_child_durations_and_handler_errors_by_name(
        e2e: E2E, failed_run: dict[str, Any]) -> None:
    series = scrape_metrics(e2e.stack.api_url)
    machine = f'state_machine="{failed_run["machine"]}"'

    def value(name: str, *labels: str) -> float:
        found = [v for n, v in series.items() if n.startswith(name + "{")
                 and all(label in n for label in (machine, *labels))]
        assert len(found) == 1, (name, labels, found)
        return found[0]

    assert value("stepmap_child_errors_total", 'error="Probe.Failure"') == len(FAIL_IDS)
    assert value("stepmap_child_duration_seconds_count", 'status="FAILED"') == len(FAIL_IDS)
    assert value("stepmap_child_duration_seconds_count",
                 'status="SUCCEEDED"') == ITEMS - len(FAIL_IDS)
    assert value("stepmap_child_duration_seconds_bucket", 'status="SUCCEEDED"',
                 'le="+Inf"') == ITEMS - len(FAIL_IDS)
    assert value("stepmap_child_duration_seconds_sum", 'status="SUCCEEDED"') >= 0
    assert {n.split("{")[0] for n in series} <= {
        *METRIC_NAMES, "stepmap_items_created", "stepmap_child_executions_created"}

"""deploy/grafana: the sample dashboard parses and graphs only metrics the API exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.api.metrics import METRIC_NAMES

DASHBOARDS = sorted((Path(__file__).resolve().parents[2] / "deploy" / "grafana").glob("*.json"))
METRIC = re.compile(r"\bstepmap_[a-z_]+\b")


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_parses_and_names_only_exported_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["title"] and dashboard["uid"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    expressions = [t["expr"] for p in panels for t in p["targets"]]
    assert expressions
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert used and used <= set(METRIC_NAMES), used - set(METRIC_NAMES)
    for expr in expressions:
        assert expr.count("(") == expr.count(")"), expr


def test_there_is_a_dashboard() -> None:
    assert DASHBOARDS

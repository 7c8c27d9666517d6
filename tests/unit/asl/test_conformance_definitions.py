"""Conformance suite for definition validation: what AWS accepts and what it rejects.

Cases live in ``tests/fixtures/asl/conformance/definitions_*.json``: ``{"name", "source",
"definition", "machine_type", "valid": true}`` or ``{..., "valid": false, "location": pointer |
[pointer, ...]}``. A rejected definition must produce at least one problem located at the
expected JSON Pointer, below it, or at its direct parent (a missing field is naturally reported
on the object that lacks it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asl import validate_definition

CONFORMANCE = Path(__file__).resolve().parents[2] / "fixtures" / "asl" / "conformance"


def load_cases() -> list[Any]:
    """Every definition case, as pytest params with ``topic::name`` ids."""
    params = []
    for path in sorted(CONFORMANCE.glob("definitions_*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{path.stem}::{case['name']}"))
    return params


def _parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if "/" in pointer else ""


def located_at(problem_path: str, expected: str) -> bool:
    """True when a problem at ``problem_path`` points at ``expected`` (itself, below, or parent)."""
    return (
        problem_path == expected
        or problem_path.startswith(expected + "/")
        or problem_path == _parent(expected)
    )


@pytest.mark.parametrize("case", load_cases())
def test_definition_is_accepted_or_rejected_like_aws(case: dict[str, Any]) -> None:
    """AWS's verdict on the definition, and where the problem is."""
    problems = validate_definition(
        case["definition"], machine_type=case.get("machine_type", "STANDARD")
    )
    if case["valid"]:
        assert problems == [], [str(p) for p in problems]
        return
    assert problems, "definition should be rejected"
    wanted = (
        case["location"] if isinstance(case["location"], list) else [case["location"]]
    )
    assert any(located_at(p.path, w) for p in problems for w in wanted), (
        f"no problem at {wanted}: {[str(p) for p in problems]}"
    )


def test_definition_suite_covers_both_verdicts() -> None:
    """The suite holds many accepted and many rejected definitions, all sourced."""
    cases = [p.values[0] for p in load_cases()]
    assert len(cases) >= 80
    assert sum(c["valid"] for c in cases) >= 20
    assert sum(not c["valid"] for c in cases) >= 60
    assert all(c.get("source") for c in cases)

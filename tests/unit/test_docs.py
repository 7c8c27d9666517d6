"""The README and docs/decisions.md stay true to the code they describe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from orchestrator.cli import app
from orchestrator.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DECISIONS = (ROOT / "docs" / "decisions.md").read_text()


def env_names(model: type[BaseModel], prefix: str = "STEPMAP_") -> Iterator[str]:
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from env_names(kind, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def readme_table_names() -> set[str]:
    return set(re.findall(r"^\| `(STEPMAP_[A-Z0-9_]+)`", README, flags=re.M))


def test_readme_lists_exactly_the_orchestrator_settings() -> None:
    assert readme_table_names() == set(env_names(Settings))


def test_workers_read_the_one_documented_settings_tree() -> None:
    import inspect

    from workers import celery_app, tasks

    assert inspect.signature(celery_app.create_app).parameters["settings"].annotation == "Settings"
    assert inspect.signature(tasks.register).parameters["settings"].annotation == "Settings"


def test_readme_quick_start_has_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert re.findall(r"^make (\w+)", quick, flags=re.M) == ["demo", "test"]


@pytest.mark.parametrize(
    "command", [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
)
def test_readme_mentions_every_cli_command(command: str) -> None:
    assert f"stepmap {command}" in README


@pytest.mark.parametrize("module", sorted(set(re.findall(r"\| `([\w/]+\.py)` \|", DECISIONS))))
def test_every_decision_points_at_an_existing_module(module: str) -> None:
    candidates = [ROOT / "orchestrator" / module, ROOT / "orchestrator" / "asl" / module,
                  ROOT / module]
    assert any(path.is_file() for path in candidates), module


SOURCES = [p for top in ("orchestrator", "workers") for p in (ROOT / top).rglob("*.py")]
SPEC = (ROOT / "docs" / "spec.md").read_text()
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()


def cited_spec_sections() -> set[str]:
    cited: set[str] = set()
    for path in SOURCES:
        for match in re.finditer(r"[Ss]pec(?:\.md)?,? ?§?(\d+\.\d+(?:(?:[-,/ ]|, |and|§)+\d+\.\d+)*)",
                                 path.read_text()):
            numbers = re.findall(r"\d+\.\d+", match.group(1))
            if "-" in match.group(1) and len(numbers) == 2:  # a range such as 2.1-2.7
                major, first = numbers[0].split(".")
                last = int(numbers[1].split(".")[1])
                numbers = [f"{major}.{n}" for n in range(int(first), last + 1)]
            cited.update(numbers)
    return cited


def test_every_spec_section_the_code_cites_is_summarised_in_docs_spec() -> None:
    summarised = set(re.findall(r"^### (\d+\.\d+) ", SPEC, flags=re.M))
    assert cited_spec_sections() - summarised == set()


def test_every_architecture_invariant_the_code_cites_exists() -> None:
    listed = set(re.findall(r"^(\d+)\. \*\*", ARCHITECTURE, flags=re.M))
    cited = {n for path in SOURCES
             for n in re.findall(r"invariants? (\d+)", path.read_text())}
    assert cited and cited <= listed

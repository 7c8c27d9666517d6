"""A new user's first run on a real stack: the README's boto3 snippet runs as written (only the
endpoint differs: the stack's API listens on a free port instead of 8080), and the demo prints
whole result keys and what to do next however narrow the terminal."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import E2E, make_stack
from rich.console import Console

from orchestrator.demo import drive, example_path, next_steps

README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED_ENDPOINT = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=4)


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_boto3_snippet_runs_as_written(e2e: E2E) -> None:
    (snippet,) = [b for b in _python_blocks() if "start_execution" in b]
    assert DOCUMENTED_ENDPOINT in snippet
    code = snippet.replace(DOCUMENTED_ENDPOINT, e2e.stack.api_url)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    counts_line, first_row = printed.getvalue().splitlines()[:2]
    assert "'succeeded': 100" in counts_line and "'failed': 0" in counts_line
    assert first_row == "{'id': 0, 'text': 'row is noisy'}"


def test_demo_prints_whole_result_keys_and_next_steps_on_a_narrow_terminal(e2e: E2E) -> None:
    out = io.StringIO()
    console = Console(file=out, width=40, force_terminal=False)
    run = drive(e2e.stack.api_url, e2e.stack.s3_url, console, rows=300)
    next_steps(console, run, e2e.stack.api_url)
    text = out.getvalue()
    assert run.code == 0 and run.map_run_arn
    assert any(k.startswith("manifest: s3://") for k in run.result_keys)
    for line in run.result_keys:
        assert line in text.splitlines()
    assert f"{e2e.stack.api_url}/console/#/mr/{run.map_run_arn}" in text
    assert example_path() in text
    assert "MaxItemsPerBatch" in text and "MaxConcurrency" in text

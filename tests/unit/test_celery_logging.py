"""Worker log lines carry the task id and the ARNs the task acts on (orchestrator.celery_logging)."""

from __future__ import annotations

import shlex

from celery import signals
from typer.testing import CliRunner

from orchestrator.celery_logging import task_context
from orchestrator.cli import app
from orchestrator.logging_context import current

EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:orders:run-1"
MAP_RUN = "arn:aws:states:us-east-1:000000000000:mapRun:orders/Map:5a1f"


def test_an_arn_argument_names_the_execution_or_the_map_run() -> None:
    assert task_context([EXECUTION], {}) == {"execution_arn": EXECUTION}
    assert task_context([["part"], MAP_RUN, "seg-1"], {}) == {"map_run_arn": MAP_RUN}
    assert task_context([], {"arn": MAP_RUN}) == {"map_run_arn": MAP_RUN}
    assert task_context(["arn:aws:iam::0:role/x", 3, None], {}) == {}


def test_a_payload_names_them_by_its_keys() -> None:
    assert task_context([{"map_run_arn": MAP_RUN, "segment": "s"}], {}) == {"map_run_arn": MAP_RUN}
    assert task_context([{"execution_arn": EXECUTION, "ok": True}], {}) == {
        "execution_arn": EXECUTION}


def test_a_payload_sent_as_json_text_names_them_too() -> None:
    from orchestrator import messages

    report = messages.ChildrenReport(map_run_arn=MAP_RUN, segment="s", outcomes=[])
    assert task_context([report.model_dump_json()], {}) == {"map_run_arn": MAP_RUN}
    assert task_context(['{"execution_arn":"' + EXECUTION + '","ok":true}'], {}) == {
        "execution_arn": EXECUTION}
    assert task_context(['{"note":"no arn here"}'], {}) == {}


def test_a_task_binds_its_context_while_it_runs_and_leaves_none_behind() -> None:
    import orchestrator.control.app  # noqa: F401 - installs the signal handlers

    signals.task_prerun.send(sender=None, task_id="t-1", task=None, args=[MAP_RUN], kwargs={})
    try:
        assert current() == {"task_id": "t-1", "map_run_arn": MAP_RUN}
    finally:
        signals.task_postrun.send(sender=None, task_id="t-1", task=None, args=[MAP_RUN],
                                  kwargs={}, retval=None, state="SUCCESS")
    assert current() == {}


def test_worker_log_format_travels_to_the_worker_in_its_environment() -> None:
    result = CliRunner().invoke(app, ["worker", "children", "--log-format", "json", "--dry-run"])
    assert result.exit_code == 0, result.output
    argv = shlex.split(result.output)
    assert argv[:2] == ["env", "STEPMAP_LOG_FORMAT=json"] and "orchestrator.celery_worker" in argv

"""The control worker's main process carries no control-plane code (issue 14, idle memory).

A prefork pool process is a fork of the worker's main process: every page the main process
holds is resident in each pool process too. The main process only receives messages and hands
them to its pool, so it imports neither the coordinator, the engine, the stores nor boto3 (the
pool processes import them with their first task), nor the ``celery`` command's plugins
(Flower, the REPL). A real stack runs a Distributed Map that reads S3 and writes results (the
pool imports all of it); then the main process is asked which modules it has
(``celery inspect stepmap_modules``, :mod:`orchestrator.celery_inspect`).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from celery import Celery

from e2e_support import E2E, distributed_map, make_stack
from orchestrator import messages

pytestmark = pytest.mark.slow

#: Imported only by the pool processes that run control tasks (or never, for the CLI's plugins).
#: (``orchestrator.store.readiness`` is imported by the devstack's readiness mark.)
POOL_ONLY = ["orchestrator.control.runtime", "orchestrator.control.parent", "orchestrator.maprun",
             "orchestrator.executions", "orchestrator.asl", "orchestrator.store.redis_store",
             "orchestrator.store.maprun_redis", "orchestrator.store.callbacks",
             "orchestrator.store.pools", "orchestrator.readers", "orchestrator.writer", "boto3",
             "botocore", "jsonpath_ng", "ijson"]
CLI_PLUGINS = ["celery.bin.celery", "flower", "click_repl", "prompt_toolkit", "tornado"]


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack(workers=1, concurrency=2)


def _main_process_modules(e2e: E2E, *prefixes: str) -> list[str]:
    """``stepmap_modules`` as answered by the control worker's main process."""
    settings = e2e.stack.settings
    assert settings is not None
    app = Celery("inspect-control")
    app.conf.update(messages.celery_config(settings.broker_url, settings.celery))
    node = f"control@{socket.gethostname()}"
    try:
        replies = app.control.broadcast("stepmap_modules", arguments={"prefixes": list(prefixes)},
                                        destination=[node], reply=True, timeout=10.0)
    finally:
        app.close()
    answers = [reply[node] for reply in replies if node in reply]
    assert len(answers) == 1, replies
    modules: list[str] = answers[0]
    return modules


def test_the_control_main_process_imports_no_control_plane_code_after_a_map_run(
        e2e: E2E) -> None:
    bucket = e2e.bucket()
    items = [{"n": i} for i in range(40)]
    e2e.s3.put_object(Bucket=bucket, Key="lean/items.json", Body=json.dumps(items).encode())
    definition = distributed_map(
        {"Echo": {"Type": "Pass", "End": True}}, "Echo", MaxConcurrency=4,
        ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": "lean/items.json"}},
        ItemBatcher={"MaxItemsPerBatch": 10},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                      "Parameters": {"Bucket": bucket, "Prefix": "lean-results"}},
    )
    described = e2e.run(definition, {}, timeout=90)
    assert described["status"] == "SUCCEEDED", described
    (run,) = e2e.map_runs(described["executionArn"])
    assert run["itemCounts"]["resultsWritten"] == 40

    # The command answers from the process that registered the control tasks ...
    assert _main_process_modules(e2e, "orchestrator.control") == [
        "orchestrator.control", "orchestrator.control.app", "orchestrator.control.tasks"]
    # ... which, after a Map Run that read S3 and wrote results, still has none of these.
    assert _main_process_modules(e2e, *POOL_ONLY, *CLI_PLUGINS) == []


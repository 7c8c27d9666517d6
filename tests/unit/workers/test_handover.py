"""Callback and activity Tasks: resource rules, the timers' arithmetic, the children's hand-over."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator import messages
from orchestrator.asl import Pending, TaskRequest
from orchestrator.control.callbacks import HEARTBEAT_TIMEOUT, TIMEOUT, due, task_token
from orchestrator.store.callbacks import TokenRecord
from workers.handover import HandOverCallbacks
from workers.invoker import WorkerTaskInvoker

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
ACTIVITY = "arn:aws:states:eu-west-1:123456789012:activity:work"


@pytest.mark.parametrize(("resource", "waits"), [
    (CALLBACK, True), (ACTIVITY, True),
    ("arn:aws:states:::lambda:invoke", False),
    ("arn:aws:lambda:us-east-1:123456789012:function:f", False),
    ("arn:aws:states:eu-west-1:123456789012:activity:a:b", False),
    ("arn:aws:states:::lambda:invoke.sync", False),
])
def test_which_resources_wait_for_an_answer(resource: str, waits: bool) -> None:
    assert messages.waits_for_answer(resource) is waits


def _record(**fields: Any) -> TokenRecord:
    base: dict[str, Any] = dict(token="t", execution_arn="a", sequence=1, state_name="S",
                                created=100.0, last_beat=100.0, timeout=None, heartbeat=None,
                                activity_arn=None, answer=None)
    return TokenRecord(**{**base, **fields})


def test_timers_name_the_first_deadline() -> None:
    assert due(_record(), 10_000.0) == (None, None)
    assert due(_record(timeout=30), 110.0) == (None, 20.0)
    assert due(_record(timeout=30), 130.0) == (TIMEOUT, None)
    assert due(_record(timeout=30, heartbeat=5, last_beat=120.0), 124.0) == (None, 1.0)
    assert due(_record(timeout=30, heartbeat=5, last_beat=120.0), 125.0) == (HEARTBEAT_TIMEOUT, None)
    # The overall timeout comes first even with fresh heartbeats.
    assert due(_record(timeout=30, heartbeat=5, last_beat=128.0), 131.0) == (TIMEOUT, None)


def test_the_engine_token_is_read_from_the_context() -> None:
    request = TaskRequest(state_name="S", resource=CALLBACK, parameters={},
                          context={"Task": {"Token": "abc"}})
    assert task_token(request) == "abc"
    assert task_token(TaskRequest(state_name="S", resource=ACTIVITY, parameters={})) is None


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, state_name: str, until: datetime) -> None:
        return None


def test_children_hand_callback_and_activity_tasks_over() -> None:
    tasks = HandOverCallbacks(WorkerTaskInvoker())
    for resource in (CALLBACK, ACTIVITY):
        request = TaskRequest(state_name="S", resource=resource, parameters={"FunctionName": "x"})
        with pytest.raises(Pending) as caught:
            tasks.invoke(request)
        assert caught.value.request is request
    pool = tasks.open_pool(_Clock())
    try:
        assert not pool.submit("k", TaskRequest(state_name="S", resource=ACTIVITY, parameters={}))
    finally:
        pool.close()

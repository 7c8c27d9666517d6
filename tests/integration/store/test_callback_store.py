"""The task token and activity store on the real Redis, and the control plane's waits over it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from orchestrator import messages
from orchestrator.asl import TaskRequest
from orchestrator.control.callbacks import CallbackWaits
from orchestrator.store.callbacks import CallbackStore, report_json
from orchestrator.store.keys import Keys

ACTIVITY = "arn:aws:states:us-east-1:000000000000:activity:work"
ARN = "arn:aws:states:us-east-1:000000000000:execution:m:e"


@pytest.fixture
def store(redis_url: str) -> Iterator[CallbackStore]:
    client = redis.Redis.from_url(redis_url)
    yield CallbackStore(client, Keys("cbtest"))
    client.close()


class Bus:
    """Records what the waits send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], float | None]] = []
        self.invocations: list[messages.TaskInvocation] = []

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None:
        self.sent.append((name, args, countdown))

    def send_task_invocation(self, invocation: messages.TaskInvocation) -> None:
        self.invocations.append(invocation)


def test_the_first_answer_wins_and_a_call_registers_one_token(store: CallbackStore) -> None:
    assert store.register("t1", ARN, 3, state_name="S", timeout=10, heartbeat=None, now=100.0)
    assert not store.register("t2", ARN, 3, state_name="S", timeout=10, heartbeat=None)
    assert store.token_of_call(ARN, 3) == "t1"
    record = store.get("t1")
    assert record is not None and record.timeout == 10 and record.heartbeat is None
    assert record.created == 100.0 and record.answer is None
    assert store.answer_of_call(ARN, 3) is None
    assert store.answer("t1", report_json(ARN, 3, output={"a": 1}))
    assert not store.answer("t1", report_json(ARN, 3, error="E"))
    answer = messages.TaskReport.model_validate_json(store.answer_of_call(ARN, 3) or "")
    assert answer.ok and answer.result == {"a": 1}
    assert store.get("nope") is None
    # A redrive makes the answered call again: it waits on a fresh token.
    assert store.register("t1", ARN, 3, state_name="S", timeout=None, heartbeat=5)
    assert store.answer_of_call(ARN, 3) is None
    assert (store.get("t1") or pytest.fail("gone")).heartbeat == 5


def test_activities_queue_tasks_first_in_first_out(store: CallbackStore) -> None:
    created = store.create_activity(ACTIVITY, "work", 5.0)
    assert store.create_activity(ACTIVITY, "work", 9.0) == created  # idempotent
    assert created["creationDate"] == 5.0
    assert [a["activityArn"] for a in store.list_activities(None, 10)] == [ACTIVITY]
    assert store.list_activities((5.0, ACTIVITY), 10) == []
    for n in (1, 2, 3):
        store.register(f"a{n}", ARN, n, state_name="S", timeout=None, heartbeat=5,
                       activity_arn=ACTIVITY, input_text=json.dumps({"n": n}), now=1.0)
        store.offer(ACTIVITY, f"a{n}")
    store.answer("a1", report_json(ARN, 1, error="States.Timeout"))  # timed out: dropped
    taken = store.take(ACTIVITY)
    assert taken is not None and taken.token == "a2" and taken.input == '{"n": 2}'
    assert taken.last_beat > 1.0  # the heartbeat clock starts when a worker takes it
    third = store.take(ACTIVITY)
    assert third is not None and third.token == "a3"
    assert store.take(ACTIVITY) is None
    store.delete_activity(ACTIVITY)
    assert store.get_activity(ACTIVITY) is None and store.list_activities(None, 10) == []


def test_waits_start_callbacks_on_workers_and_activities_in_their_queue(
    store: CallbackStore,
) -> None:
    bus = Bus()
    waits = CallbackWaits(store, bus)
    callback = TaskRequest(state_name="S", resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
                           parameters={"FunctionName": "f"}, heartbeat_seconds=4,
                           timeout_seconds=9, context={"Task": {"Token": "tok"}})
    waits.start(ARN, 1, callback)
    waits.start(ARN, 1, callback)  # a replayed start sends nothing
    assert [i.sequence for i in bus.invocations] == [1]
    assert bus.sent == [(messages.CALLBACK_TIMER, ("tok",), 4.0)]
    ok = messages.TaskReport(execution_arn=ARN, sequence=1, ok=True, result={"x": 1})
    assert waits.swallow(ok)  # the handler returned: the Task waits on
    assert waits.answer_of(ARN, 1) is None
    store.create_activity(ACTIVITY, "work", 1.0)
    waits.start(ARN, 2, TaskRequest(state_name="A", resource=ACTIVITY, parameters={"v": 2}))
    taken = store.take(ACTIVITY)
    assert taken is not None and taken.input == '{"v":2}' and taken.sequence == 2


def test_a_due_heartbeat_timer_answers_and_advances_a_later_one_waits(
    store: CallbackStore,
) -> None:
    bus = Bus()
    waits = CallbackWaits(store, bus)
    store.register("hb", ARN, 7, state_name="S", timeout=100, heartbeat=10, now=1000.0)
    waits.timer("hb", now=1005.0)
    assert bus.sent == [(messages.CALLBACK_TIMER, ("hb",), 5.0)]
    store.beat("hb", now=1008.0)
    waits.timer("hb", now=1011.0)
    assert bus.sent[-1] == (messages.CALLBACK_TIMER, ("hb",), 7.0)
    waits.timer("hb", now=1018.5)
    assert bus.sent[-1] == (messages.ADVANCE_EXECUTION, (ARN,), None)
    report = messages.TaskReport.model_validate_json(waits.answer_of(ARN, 7) or "")
    assert report.error == "States.HeartbeatTimeout"
    waits.timer("hb", now=2000.0)  # answered: nothing more
    assert len(bus.sent) == 3


def test_an_advance_enforces_a_timer_whose_message_was_lost(store: CallbackStore) -> None:
    # Regression (issue 11): timer messages lost with a killed control worker were never
    # re-armed, so the call waited forever; every advance (the liveness sweep's) enforces them.
    bus = Bus()
    waits = CallbackWaits(store, bus)
    store.register("lost", ARN, 3, state_name="S", timeout=100, heartbeat=10, now=1000.0)
    waits.enforce(ARN, 3, rearm_within=5.0, now=1001.0)  # due in 9 s: the sweep comes first
    assert bus.sent == [] and waits.answer_of(ARN, 3) is None
    waits.enforce(ARN, 3, rearm_within=5.0, now=1006.0)  # due within the sweep's interval
    assert bus.sent == [(messages.CALLBACK_TIMER, ("lost",), 4.0)]
    waits.enforce(ARN, 3, rearm_within=5.0, now=1010.5)  # past due: timed out right here
    report = messages.TaskReport.model_validate_json(waits.answer_of(ARN, 3) or "")
    assert (report.error, report.cause) == ("States.HeartbeatTimeout",
                                            "The heartbeat of Task 'S' timed out")
    waits.enforce(ARN, 3, rearm_within=5.0, now=2000.0)  # answered: nothing more
    assert len(bus.sent) == 1


def test_a_failed_callback_handler_fails_the_task(store: CallbackStore) -> None:
    waits = CallbackWaits(store, Bus())
    store.register("f", ARN, 4, state_name="S", timeout=None, heartbeat=None)
    failed = messages.TaskReport(execution_arn=ARN, sequence=4, ok=False, error="Boom", cause="c")
    assert not waits.swallow(failed)
    report = messages.TaskReport.model_validate_json(waits.answer_of(ARN, 4) or "")
    assert report.error == "Boom"
    plain = messages.TaskReport(execution_arn=ARN, sequence=99, ok=True)
    assert not waits.swallow(plain)  # not a callback call: its report is the result

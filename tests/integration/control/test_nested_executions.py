"""states:startExecution in the control plane, on the real Redis stores (issue 11 part 4).

The service is the real one (it starts the nested execution as StartExecution does); the bus
and the publisher record what would be sent to the control plane. The end of a nested execution
is a real store transition, as the parent runner makes it. The whole flow with real workers is
``tests/e2e/test_integrations.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from orchestrator import messages
from orchestrator.asl import TaskRequest
from orchestrator.control.callbacks import CallbackWaits
from orchestrator.control.nested import (
    STARTED_BY,
    NestedExecutions,
    NestedParameterError,
    start_request,
    sync_output,
)
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings
from orchestrator.store.callbacks import CallbackStore
from orchestrator.store.keys import Keys
from orchestrator.store.redis_store import RedisStore
from tests.integration.api.support import FakePublisher
from tests.integration.store.test_callback_store import Bus

PARENT = "arn:aws:states:us-east-1:000000000000:execution:parent:p1"
START = "arn:aws:states:::states:startExecution"
DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


class World:
    def __init__(self, client: redis.Redis) -> None:
        self.records = RedisStore(client, Keys("nested"))
        self.callbacks = CallbackStore(client, Keys("nested"))
        self.bus = Bus()
        self.publisher = FakePublisher()
        self.service = StepFunctionsService(self.records, Settings(), self.publisher,
                                            callbacks=self.callbacks)
        self.nested = NestedExecutions(self.service, self.records,
                                       CallbackWaits(self.callbacks, self.bus))
        self.machine = self.service.create_state_machine({
            "name": "child", "definition": DEFINITION,
            "roleArn": "arn:aws:iam::000000000000:role/r"})["stateMachineArn"]

    def start(self, sequence: int, pattern: str = "", **parameters: Any) -> None:
        parameters.setdefault("StateMachineArn", self.machine)
        self.nested.start(PARENT, sequence, TaskRequest(
            state_name="Nested", resource=START + pattern, parameters=parameters))

    def answer(self, sequence: int) -> messages.TaskReport | None:
        raw = self.callbacks.answer_of_call(PARENT, sequence)
        return None if raw is None else messages.TaskReport.model_validate_json(raw)

    def child_of(self, sequence: int) -> str:
        token = self.callbacks.token_of_call(PARENT, sequence)
        record = self.callbacks.get(token or "")
        assert record is not None and record.child is not None
        return record.child

    def end(self, child: str, **fields: Any) -> None:
        assert self.records.transition_execution(child, {"RUNNING"},
                                                 {"stopDate": 2_000_000_000.5, **fields})
        self.nested.ended(child)


@pytest.fixture
def world(redis_url: str) -> Iterator[World]:
    client = redis.Redis.from_url(redis_url)
    yield World(client)
    client.close()


def test_a_plain_start_answers_with_start_executions_response_at_once(world: World) -> None:
    world.start(4, Input={"n": 1})
    answer = world.answer(4)
    assert answer is not None and answer.ok
    child = world.child_of(4)
    assert answer.result["ExecutionArn"] == child
    assert isinstance(answer.result["StartDate"], int)
    record = world.records.get_execution(child)
    assert record is not None and record["status"] == "RUNNING" and record["input"] == '{"n":1}'
    assert ("advance", child) in world.publisher.calls
    assert (messages.ADVANCE_EXECUTION, (PARENT,), None) in world.bus.sent


def test_sync_waits_for_the_end_and_answers_with_describe_execution(world: World) -> None:
    world.start(5, ".sync", Input={STARTED_BY: PARENT, "n": 2})
    assert world.answer(5) is None
    child = world.child_of(5)
    record = world.records.get_execution(child)
    assert record is not None and record["startedBy"] == PARENT
    world.end(child, status="SUCCEEDED", output='{"done":true}')
    answer = world.answer(5)
    assert answer is not None and answer.ok
    assert answer.result["Status"] == "SUCCEEDED" and answer.result["ExecutionArn"] == child
    assert answer.result["Output"] == '{"done":true}'  # .sync: JSON text
    assert answer.result["StopDate"] == 2_000_000_000_500
    assert answer.result["OutputDetails"] == {"Included": True}


def test_sync2_answers_with_json_input_and_output(world: World) -> None:
    world.start(6, ".sync:2", Input={"n": 3})
    world.end(world.child_of(6), status="SUCCEEDED", output='{"done":[1,2]}')
    answer = world.answer(6)
    assert answer is not None and answer.result["Output"] == {"done": [1, 2]}
    assert answer.result["Input"] == {"n": 3}


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_nested_execution_that_does_not_succeed_fails_the_task(world: World,
                                                                 status: str) -> None:
    world.start(7, ".sync")
    child = world.child_of(7)
    world.end(child, status=status, error="Child.Broke", cause="on purpose")
    answer = world.answer(7)
    assert answer is not None and not answer.ok
    assert answer.error == "States.TaskFailed"
    described = json.loads(answer.cause or "")
    assert (described["Status"], described["Error"], described["Cause"]) == (
        status, "Child.Broke", "on purpose")
    assert described["ExecutionArn"] == child


def test_a_replayed_start_starts_nothing_new(world: World) -> None:
    world.start(8, ".sync", Input={"n": 1})
    first = world.child_of(8)
    world.start(8, ".sync", Input={"n": 1})
    assert world.child_of(8) == first
    assert [c for c in world.publisher.calls if c[0] == "advance"] == [("advance", first)]


def test_start_errors_are_stepfunctions_errors(world: World) -> None:
    world.start(9, StateMachineArn="arn:aws:states:us-east-1:000000000000:stateMachine:nope")
    answer = world.answer(9)
    assert answer is not None and answer.error == "StepFunctions.StateMachineDoesNotExist"
    world.start(10, Name="bad name with spaces")
    answer = world.answer(10)
    assert answer is not None and answer.error == "StepFunctions.InvalidName"
    world.start(11, StateMachineArn=None)
    answer = world.answer(11)
    assert answer is not None and answer.error == "StepFunctions.ValidationException"
    assert "StateMachineArn" in (answer.cause or "")


def test_a_name_in_use_by_an_ended_execution_fails_the_task(world: World) -> None:
    world.start(12, ".sync", Name="fixed-name")
    world.end(world.child_of(12), status="SUCCEEDED", output="{}")
    world.start(13, ".sync", Name="fixed-name")  # e.g. a Retry of the Task after it ended
    answer = world.answer(13)
    assert answer is not None and answer.error == "StepFunctions.ExecutionAlreadyExists"


def test_a_redriven_call_starts_a_new_nested_execution() -> None:
    first = start_request({"StateMachineArn": "arn:x"}, PARENT, 3, redrive_count=0)
    again = start_request({"StateMachineArn": "arn:x"}, PARENT, 3, redrive_count=1)
    assert first["name"] != again["name"]


def test_start_request_is_derived_from_the_task_parameters() -> None:
    request = start_request({"StateMachineArn": "arn:x", "Input": "{\"a\": 1}"}, PARENT, 3)
    assert request["input"] == '{"a": 1}' and request["stateMachineArn"] == "arn:x"
    assert request["name"] == start_request({"StateMachineArn": "arn:x"}, PARENT, 3)["name"]
    assert request["name"] != start_request({"StateMachineArn": "arn:x"}, PARENT, 4)["name"]
    with pytest.raises(NestedParameterError, match="Name"):
        start_request({"StateMachineArn": "arn:x", "Name": 5}, PARENT, 3)


def test_sync_output_uses_aws_pascal_case_and_milliseconds() -> None:
    record = {"executionArn": "e", "stateMachineArn": "s", "name": "n", "status": "SUCCEEDED",
              "startDate": 1.25, "stopDate": 2.5, "input": '{"a":1}', "output": '{"b":2}'}
    described = sync_output(record, ".sync")
    assert (described["StartDate"], described["StopDate"]) == (1250, 2500)
    assert described["Input"] == '{"a":1}' and described["InputDetails"] == {"Included": True}
    assert sync_output(record, ".sync:2")["Output"] == {"b": 2}

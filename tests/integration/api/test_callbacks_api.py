"""Task token answers and activities on both faces, with the token store on the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from orchestrator.api import create_app
from orchestrator.api.aws_callbacks import long_poll
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings
from orchestrator.store.callbacks import CallbackStore
from orchestrator.store.keys import Keys
from orchestrator.store.redis_store import RedisStore
from tests.integration.api.support import FakeMapRuns, FakePublisher, TestClient, aws

EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:m:e"


@pytest.fixture
def wired(settings: Settings, redis_client: redis.Redis,
          publisher: FakePublisher) -> StepFunctionsService:
    keys = Keys(settings.redis.key_prefix)
    service = StepFunctionsService(RedisStore(redis_client, keys), settings, publisher,
                                   FakeMapRuns())
    service.callbacks = CallbackStore(redis_client, keys)
    return service


@pytest.fixture
def api(settings: Settings, wired: StepFunctionsService) -> Iterator[TestClient]:
    with TestClient(create_app(settings, wired)) as test_client:
        yield test_client


def _code(response: object) -> str:
    return str(response.json()["__type"])  # type: ignore[attr-defined]


def test_answers_are_checked_stored_once_and_advance_the_execution(
    api: TestClient, wired: StepFunctionsService, publisher: FakePublisher
) -> None:
    store = wired.callbacks
    assert store is not None
    store.register("tok", EXECUTION, 2, state_name="S", timeout=None, heartbeat=None)
    assert _code(aws(api, "SendTaskSuccess", {"taskToken": "x" * 2049, "output": "{}"})) \
        == "InvalidToken"
    assert _code(aws(api, "SendTaskSuccess", {"taskToken": "other", "output": "{}"})) \
        == "TaskDoesNotExist"
    assert _code(aws(api, "SendTaskSuccess", {"taskToken": "tok", "output": "{"})) \
        == "InvalidOutput"
    assert aws(api, "SendTaskHeartbeat", {"taskToken": "tok"}).json() == {}
    assert aws(api, "SendTaskFailure", {"taskToken": "tok", "error": "E", "cause": "C"}).json() \
        == {}
    assert publisher.calls == [("advance", EXECUTION)]
    assert _code(aws(api, "SendTaskSuccess", {"taskToken": "tok", "output": "{}"})) \
        == "TaskTimedOut"
    assert '"error":"E"' in (store.answer_of_call(EXECUTION, 2) or "")


def test_activities_on_the_v1_face_and_the_aws_face(api: TestClient,
                                                    wired: StepFunctionsService) -> None:
    created = api.post("/v1/activities", json={"name": "resize"}).json()
    arn = created["activityArn"]
    assert arn == "arn:aws:states:us-east-1:000000000000:activity:resize"
    assert isinstance(created["creationDate"], str)  # ISO-8601 on /v1
    assert api.get(f"/v1/activities/{arn}").json()["name"] == "resize"
    listed = aws(api, "ListActivities", {"maxResults": 1}).json()
    assert [a["activityArn"] for a in listed["activities"]] == [arn]
    store = wired.callbacks
    assert store is not None
    store.register("job", EXECUTION, 1, state_name="S", timeout=None, heartbeat=None,
                   activity_arn=arn, input_text='{"n":1}')
    store.offer(arn, "job")
    assert api.post(f"/v1/activities/{arn}/tasks", json={"workerName": "w"}).json() == {
        "taskToken": "job", "input": '{"n":1}'}
    assert asyncio.run(long_poll(wired, {"activityArn": arn}, seconds=0.3)) == {}
    assert api.delete(f"/v1/activities/{arn}").json() == {}
    assert _code(aws(api, "DescribeActivity", {"activityArn": arn})) == "ActivityDoesNotExist"
    assert _code(aws(api, "GetActivityTask", {"activityArn": "arn:nope"})) == "InvalidArn"
    assert _code(aws(api, "CreateActivity", {"name": "bad name"})) == "InvalidName"

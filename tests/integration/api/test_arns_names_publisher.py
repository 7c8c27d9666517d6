"""ARN parsing, the name rules of spec 1.4, and the Celery publisher on the real Redis broker."""

from __future__ import annotations

import base64
import json

import celery
import pytest
import redis

from orchestrator.api import create_app
from orchestrator.executions import arns
from orchestrator.executions.errors import InvalidArn, InvalidName, ValidationException
from orchestrator.executions.publisher import CeleryPublisher
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys
from orchestrator.store.redis_store import RedisStore
from tests.integration.api.support import PASS_DEFINITION, ROLE, TestClient, aws, free_port

PREFIX = "arn:aws:states:us-east-1:000000000000"


@pytest.mark.parametrize(
    "char",
    list('<>{}[]?*"#%\\^|~`$&,;:/')
    + [" ", "\t", "\n", "\x00", "\x1f", "\x7f", "\x9f", "\ufffe", "\uffff"],
)
def test_forbidden_characters_make_a_name_invalid(char: str) -> None:
    with pytest.raises(InvalidName) as caught:
        arns.validate_name(f"a{char}b")
    assert caught.value.message == f"Invalid Name: 'a{char}b'"


def test_names_may_use_dashes_dots_underscores_and_unicode() -> None:
    for name in ("a", "run-1.2_x", "é-ü", "x" * 80, "@!=+'()"):
        arns.validate_name(name)


def test_names_longer_than_80_characters_break_the_length_constraint() -> None:
    with pytest.raises(ValidationException) as caught:
        arns.validate_name("x" * 81)
    assert caught.value.message.endswith("Member must have length less than or equal to 80")


def test_parent_execution_arn_is_parsed() -> None:
    ref = arns.parse_execution_arn(f"{PREFIX}:execution:orders:run-1")
    assert (ref.state_machine_arn, ref.name, ref.label, ref.is_map_run_child) == (
        f"{PREFIX}:stateMachine:orders",
        "run-1",
        None,
        False,
    )


def test_child_execution_arn_has_a_labelled_machine() -> None:
    ref = arns.parse_execution_arn(f"{PREFIX}:execution:orders/Items:0f0e")
    assert (ref.state_machine_arn, ref.base_state_machine_arn, ref.name, ref.label) == (
        f"{PREFIX}:stateMachine:orders/Items",
        f"{PREFIX}:stateMachine:orders",
        "0f0e",
        "Items",
    )
    assert ref.is_map_run_child


def test_labelled_state_machine_arn_is_parsed() -> None:
    ref = arns.parse_state_machine_arn(f"{PREFIX}:stateMachine:orders/Items")
    assert (ref.arn, ref.name, ref.label) == (f"{PREFIX}:stateMachine:orders", "orders", "Items")


def test_execution_arn_is_built_from_the_machine_arn() -> None:
    assert (
        arns.execution_arn(f"{PREFIX}:stateMachine:orders", "r") == f"{PREFIX}:execution:orders:r"
    )
    assert (
        arns.state_machine_arn("eu-west-1", "123", "m")
        == "arn:aws:states:eu-west-1:123:stateMachine:m"
    )


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("nope", "Invalid Arn: 'Invalid ARN prefix: nope'"),
        (
            f"{PREFIX}:activity:x",
            "Invalid Arn: 'Resource type not valid in this context: activity'",
        ),
        (
            f"{PREFIX}:stateMachine:orders",
            "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
        ),
        (f"{PREFIX}:execution:orders", f"Invalid Arn: '{PREFIX}:execution:orders'"),
    ],
)
def test_malformed_execution_arns_are_invalid(arn: str, message: str) -> None:
    with pytest.raises(InvalidArn) as caught:
        arns.parse_execution_arn(arn)
    assert caught.value.message == message


def test_map_run_arn_needs_a_label_and_an_id() -> None:
    arns.parse_map_run_arn(f"{PREFIX}:mapRun:orders/Items:1234")
    with pytest.raises(InvalidArn):
        arns.parse_map_run_arn(f"{PREFIX}:mapRun:orders:1234")


def test_celery_publisher_sends_tasks_by_name_to_the_control_queue(
    settings: Settings, redis_url: str
) -> None:
    publisher = CeleryPublisher(settings)
    publisher.advance_execution("arn:1")
    publisher.stop_execution("arn:2")
    publisher.redrive_execution("arn:3")
    client = redis.Redis.from_url(redis_url)
    raw = client.lrange(settings.celery.control_queue, 0, -1)
    client.close()
    messages = [json.loads(item) for item in raw]
    sent = sorted(
        (m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages
    )
    assert sent == [
        ("stepmap.control.advance_execution", ["arn:1"]),
        ("stepmap.control.redrive_execution", ["arn:3"]),
        ("stepmap.control.stop_execution", ["arn:2"]),
    ]


def test_an_execution_the_broker_cannot_take_fails_instead_of_hanging(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # Given a publisher on a real Celery app whose broker port has nothing listening
    dead = celery.Celery("dead", broker=f"redis://127.0.0.1:{free_port()}/0")
    dead.conf.update(task_publish_retry=False, broker_connection_retry=False,
                     broker_connection_max_retries=0)
    store = RedisStore(redis_client, Keys(settings.redis.key_prefix))
    service = StepFunctionsService(store, settings, CeleryPublisher(settings, app=dead))
    with TestClient(create_app(settings, service), raise_server_exceptions=False) as client:
        machine = aws(client, "CreateStateMachine", {
            "name": "dead-broker", "definition": PASS_DEFINITION, "roleArn": ROLE}).json()
        # When an execution is started, then the call fails as the service being unavailable
        response = aws(client, "StartExecution", {
            "stateMachineArn": machine["stateMachineArn"], "name": "lost"})
        assert (response.status_code, response.json()["__type"]) == (503, "ServiceUnavailable")
        assert "cannot be reached" in response.json()["message"]
        # and the execution is FAILED with the reason, not RUNNING for ever
        arn = machine["stateMachineArn"].replace(":stateMachine:", ":execution:") + ":lost"
        described = aws(client, "DescribeExecution", {"executionArn": arn}).json()
        assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
        assert "control plane" in described["cause"]
        events = aws(client, "GetExecutionHistory", {"executionArn": arn}).json()["events"]
        assert [e["type"] for e in events] == ["ExecutionFailed"]
        # and the API keeps serving
        assert aws(client, "ListStateMachines").status_code == 200

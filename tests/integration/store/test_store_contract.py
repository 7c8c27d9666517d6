"""One contract, two stores: the Redis store (real server) and the memory store behave alike."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from orchestrator.store.base import StateStore
from orchestrator.store.keys import Keys
from orchestrator.store.memory_store import MemoryStore
from orchestrator.store.redis_store import RedisStore

SM = "arn:aws:states:us-east-1:000000000000:stateMachine:orders"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    yield RedisStore(client, Keys("test"))
    client.close()


def machine(name: str, created: float) -> dict[str, object]:
    return {
        "stateMachineArn": f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}",
        "name": name,
        "definition": '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}',
        "roleArn": "arn:aws:iam::000000000000:role/r",
        "type": "STANDARD",
        "status": "ACTIVE",
        "creationDate": created,
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
    }


def execution(name: str, started: float, status: str = "RUNNING") -> dict[str, object]:
    return {
        "executionArn": f"arn:aws:states:us-east-1:000000000000:execution:orders:{name}",
        "stateMachineArn": SM,
        "name": name,
        "status": status,
        "startDate": started,
        "input": '{"a": 1}',
        "redriveCount": 0,
    }


def test_inserted_state_machine_reads_back_with_its_types(store: StateStore) -> None:
    record = machine("orders", 1700000000.123456)
    assert store.insert_state_machine(record) is True
    assert store.get_state_machine(SM) == record


def test_tags_and_alias_routing_read_back_as_json(store: StateStore) -> None:
    record = machine("orders", 1.0)
    record["tags"] = [{"key": "team", "value": "data"}]
    store.insert_state_machine(record)
    routing = [{"stateMachineVersionArn": SM + ":1", "weight": 100}]
    store.update_state_machine(SM, {"routingConfiguration": routing})
    back = store.get_state_machine(SM)
    assert back is not None
    assert (back["tags"], back["routingConfiguration"]) == (record["tags"], routing)


def test_inserting_an_existing_state_machine_returns_false_and_keeps_the_first(
    store: StateStore,
) -> None:
    store.insert_state_machine(machine("orders", 1.0))
    second = machine("orders", 2.0)
    second["definition"] = "{}"
    assert store.insert_state_machine(second) is False
    assert store.get_state_machine(SM)["creationDate"] == 1.0  # type: ignore[index]


def test_missing_records_read_as_none(store: StateStore) -> None:
    assert store.get_state_machine(SM) is None
    assert store.get_execution(SM.replace("stateMachine", "execution") + ":x") is None
    assert store.get_checkpoint("nope") is None


def test_updating_a_state_machine_sets_and_removes_fields(store: StateStore) -> None:
    store.insert_state_machine(machine("orders", 1.0))
    store.update_state_machine(SM, {"status": "DELETING", "loggingConfiguration": None})
    record = store.get_state_machine(SM)
    assert record is not None
    assert record["status"] == "DELETING"
    assert "loggingConfiguration" not in record


def test_deleted_state_machine_disappears_from_reads_and_listing(store: StateStore) -> None:
    store.insert_state_machine(machine("orders", 1.0))
    store.delete_state_machine(SM)
    assert store.get_state_machine(SM) is None
    assert list(store.iter_state_machines()) == []


def test_state_machines_list_oldest_first_and_resume_after_a_cursor(store: StateStore) -> None:
    for index, name in enumerate(["c", "a", "b"]):
        store.insert_state_machine(machine(name, 10.0 + index))
    store.insert_state_machine(machine("d", 11.0))  # same time as "a": ties sort by ARN
    listed = list(store.iter_state_machines())
    assert [record["name"] for _, record in listed] == ["c", "a", "d", "b"]
    assert [record["name"] for _, record in store.iter_state_machines(after=listed[1][0])] == [
        "d",
        "b",
    ]


def test_executions_list_newest_first_and_resume_after_a_cursor(store: StateStore) -> None:
    for index in range(5):
        assert store.insert_execution(execution(f"e{index}", 100.0 + index))
    store.insert_execution(execution("e3b", 103.0))
    listed = list(store.iter_executions(SM))
    assert [record["name"] for _, record in listed] == ["e4", "e3b", "e3", "e2", "e1", "e0"]
    rest = [record["name"] for _, record in store.iter_executions(SM, after=listed[1][0])]
    assert rest == ["e3", "e2", "e1", "e0"]


def test_listing_walks_past_one_batch(store: StateStore) -> None:
    for index in range(450):
        store.insert_execution(execution(f"e{index:03d}", float(index)))
    names = [record["name"] for _, record in store.iter_executions(SM)]
    assert names == [f"e{index:03d}" for index in reversed(range(450))]


def test_inserting_an_existing_execution_returns_false(store: StateStore) -> None:
    assert store.insert_execution(execution("e1", 1.0)) is True
    assert store.insert_execution(execution("e1", 2.0)) is False
    assert [c for c, _ in store.iter_executions(SM)] == [
        (1.0, execution("e1", 1.0)["executionArn"])
    ]


def test_update_execution_sets_and_removes_fields(store: StateStore) -> None:
    record = execution("e1", 1.0)
    store.insert_execution(record)
    store.update_execution(
        str(record["executionArn"]),
        {"status": "SUCCEEDED", "output": "1", "input": None, "stopDate": 5.5},
    )
    assert store.get_execution(str(record["executionArn"])) == {
        "executionArn": record["executionArn"],
        "stateMachineArn": SM,
        "name": "e1",
        "status": "SUCCEEDED",
        "startDate": 1.0,
        "stopDate": 5.5,
        "output": "1",
        "redriveCount": 0,
    }


def test_transition_applies_only_from_an_allowed_status(store: StateStore) -> None:
    record = execution("e1", 1.0)
    arn = str(record["executionArn"])
    store.insert_execution(record)
    updated = store.transition_execution(arn, {"RUNNING"}, {"status": "ABORTED", "stopDate": 2.0})
    assert updated is not None
    assert (updated["status"], updated["stopDate"]) == ("ABORTED", 2.0)
    assert store.transition_execution(arn, {"RUNNING"}, {"status": "FAILED"}) is None
    assert store.get_execution(arn)["status"] == "ABORTED"  # type: ignore[index]
    assert store.transition_execution(arn + "x", {"RUNNING"}, {"status": "FAILED"}) is None


def test_transition_appends_its_event_with_the_next_id(store: StateStore) -> None:
    record = execution("e1", 1.0)
    arn = str(record["executionArn"])
    store.insert_execution(record)
    started = {
        "timestamp": 1.0,
        "type": "ExecutionStarted",
        "id": 1,
        "previousEventId": 0,
        "executionStartedEventDetails": {"input": "{}"},
    }
    entered = {
        "timestamp": 1.5,
        "type": "PassStateEntered",
        "id": 2,
        "previousEventId": 1,
        "stateEnteredEventDetails": {"name": "A", "input": '{"id": 9}'},
    }
    assert store.append_history(arn, [started, entered]) is True
    store.transition_execution(
        arn,
        {"RUNNING"},
        {"status": "ABORTED"},
        event={
            "timestamp": 2.25,
            "type": "ExecutionAborted",
            "executionAbortedEventDetails": {"error": "E"},
        },
    )
    assert store.history_length(arn) == 3
    assert store.get_history(arn, 2, 3) == [
        {
            "id": 3,
            "previousEventId": 2,
            "timestamp": 2.25,
            "type": "ExecutionAborted",
            "executionAbortedEventDetails": {"error": "E"},
        }
    ]


def test_first_event_appended_by_a_transition_has_id_one(store: StateStore) -> None:
    record = execution("e1", 1.0)
    arn = str(record["executionArn"])
    store.insert_execution(record)
    store.transition_execution(
        arn, {"RUNNING"}, {}, event={"timestamp": 1.0, "type": "ExecutionAborted"}
    )
    assert store.get_history(arn, 0, 10) == [
        {"id": 1, "previousEventId": 0, "timestamp": 1.0, "type": "ExecutionAborted"}
    ]


def test_append_history_can_require_a_status(store: StateStore) -> None:
    record = execution("e1", 1.0, status="ABORTED")
    arn = str(record["executionArn"])
    store.insert_execution(record)
    event = {"timestamp": 1.0, "type": "PassStateEntered", "id": 1, "previousEventId": 0}
    assert store.append_history(arn, [event], require_status="RUNNING") is False
    assert store.history_length(arn) == 0
    assert store.append_history(arn, [event], require_status="ABORTED") is True
    assert store.get_history(arn, 0, 5) == [event]


def test_history_slices_are_clipped_to_the_list(store: StateStore) -> None:
    arn = "arn:aws:states:us-east-1:000000000000:execution:orders:e1"
    events = [
        {"timestamp": float(i), "type": "PassStateEntered", "id": i + 1, "previousEventId": i}
        for i in range(5)
    ]
    store.append_history(arn, events)
    assert store.get_history(arn, 3, 100) == events[3:]
    assert store.get_history(arn, -2, 2) == events[:2]
    assert store.get_history(arn, 4, 4) == []


def test_checkpoints_round_trip_and_can_be_forgotten(store: StateStore) -> None:
    text = json.dumps({"journal": [1, {"a": None}], "next": 3, "s": "é"})
    store.set_checkpoint("arn:x", text)
    assert store.get_checkpoint("arn:x") == text
    store.set_checkpoint("arn:x", None)
    assert store.get_checkpoint("arn:x") is None


def test_page_tokens_round_trip_and_unknown_ones_read_as_none(store: StateStore) -> None:
    token = store.put_page_token({"op": "ListExecutions", "cursor": [1.5, "arn"]}, 86400)
    assert store.get_page_token(token) == {"op": "ListExecutions", "cursor": [1.5, "arn"]}
    assert store.get_page_token("0" * 32) is None


def test_store_answers_ping(store: StateStore) -> None:
    assert store.ping() is True


def test_memory_page_tokens_expire_on_the_injected_clock() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    token = store.put_page_token({"a": 1}, 60)
    clock.now += 59.9
    assert store.get_page_token(token) == {"a": 1}
    clock.now += 0.1
    assert store.get_page_token(token) is None


def test_redis_page_tokens_carry_a_24_hour_ttl(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client, Keys("test"))
    token = store.put_page_token({"a": 1}, 86400)
    assert 86390 <= client.ttl(Keys("test").page_token(token)) <= 86400
    client.close()


def test_unreachable_redis_fails_ping() -> None:
    store = RedisStore(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), Keys("test")
    )
    assert store.ping() is False


def test_running_executions_are_registered_for_the_liveness_sweep(store: StateStore) -> None:
    record = execution("sweep-me", 1.0)
    arn = str(record["executionArn"])
    store.insert_execution(record)
    assert arn in store.stale_open_executions(1e12, 10_000)
    store.touch_open_execution(arn, 1e11)
    assert arn not in store.stale_open_executions(1e10, 10_000)
    store.drop_open_execution(arn)
    assert arn not in store.stale_open_executions(1e12, 10_000)
    # A redrive (a transition back to RUNNING) registers it again
    store.transition_execution(arn, ["RUNNING"], {"status": "FAILED"})
    store.transition_execution(arn, ["FAILED"], {"status": "RUNNING"})
    assert arn in store.stale_open_executions(1e12, 10_000)

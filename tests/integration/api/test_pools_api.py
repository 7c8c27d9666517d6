"""The stepmap extensions for pools and rates through both faces, on a real Redis.

Pools: created, listed, described, changed and removed (``Stepmap*Pool`` on the AWS face,
``/v1/pools``); removal is refused while an open Map Run draws from the pool. Rates: changed
live on a running Map Run (``StepmapUpdateMapRunRate``, ``PATCH /v1/map-runs/{arn}/rate``) and
shown in DescribeMapRun as extension members, which boto3 ignores. Bad values are 4xx naming
the field.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis

from orchestrator.executions.service import StepFunctionsService
from orchestrator.maprun.api import MapRunApi
from orchestrator.maprun.limits_api import LimitsApi
from orchestrator.settings import Settings
from orchestrator.statuses import MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.pools import RedisPoolStore
from orchestrator.store.redis_store import RedisStore
from tests.integration.api.support import FakePublisher, TestClient, aws
from tests.integration.store.test_maprun_store_contract import new_run

RUN = "arn:aws:states:us-east-1:000000000000:mapRun:sm/L:0f6c"


@pytest.fixture
def dispatched() -> list[str]:
    return []


@pytest.fixture
def service(settings: Settings, redis_client: redis.Redis,
            dispatched: list[str]) -> StepFunctionsService:
    """The service with pools and rates on the real Redis (overrides conftest's)."""
    keys = Keys(settings.redis.key_prefix)
    runs = RedisMapRunStore(redis_client, keys)
    return StepFunctionsService(
        RedisStore(redis_client, keys), settings, FakePublisher(), MapRunApi(runs, settings),
        limits=LimitsApi(RedisPoolStore(redis_client, keys), runs, settings,
                         dispatched.append))


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client


def open_map_run(service: StepFunctionsService, pools: tuple[str, ...] = ()) -> str:
    assert service.limits is not None
    store = service.limits.map_runs  # type: ignore[attr-defined]
    store.create(new_run(RUN, 5).replace(pools=pools, items_per_second=100.0), "{}")
    return RUN


def test_pools_are_created_listed_described_changed_and_removed_on_the_aws_face(
        api: TestClient) -> None:
    created = aws(api, "StepmapCreatePool", {"name": "db", "maxConcurrency": 10})
    assert created.status_code == 200, created.text
    assert created.json()["maxConcurrency"] == 10 and "itemsPerSecond" not in created.json()
    aws(api, "StepmapCreatePool", {"name": "api", "maxConcurrency": 3, "itemsPerSecond": 500})
    listed = aws(api, "StepmapListPools").json()["pools"]
    assert [(p["name"], p["running"]) for p in listed] == [("db", 0), ("api", 0)]
    changed = aws(api, "StepmapUpdatePool", {"name": "api", "itemsPerSecond": 0}).json()
    assert "itemsPerSecond" not in changed and changed["maxConcurrency"] == 3
    described = aws(api, "StepmapDescribePool", {"name": "db"}).json()
    assert described["running"] == 0 and described["mapRunArns"] == []
    assert aws(api, "StepmapDeletePool", {"name": "db"}).json() == {}
    gone = aws(api, "StepmapDescribePool", {"name": "db"})
    assert gone.status_code == 400 and gone.json()["__type"] == "ResourceNotFound"


def test_pools_on_the_v1_face_have_iso_dates(api: TestClient) -> None:
    created = api.post("/v1/pools", json={"name": "db", "maxConcurrency": 4})
    assert created.status_code == 200, created.text
    assert "T" in created.json()["creationDate"]
    patched = api.patch("/v1/pools/db", json={"maxConcurrency": 8, "itemsPerSecond": 2.5})
    assert (patched.json()["maxConcurrency"], patched.json()["itemsPerSecond"]) == (8, 2.5)
    assert api.get("/v1/pools").json()["pools"][0]["name"] == "db"
    assert api.get("/v1/pools/db").json()["running"] == 0
    assert api.delete("/v1/pools/db").status_code == 200
    assert api.get("/v1/pools/db").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "has space", "maxConcurrency": 1}, "name"),
    ({"name": "db"}, "maxConcurrency"),
    ({"name": "db", "maxConcurrency": 0}, "maxConcurrency"),
    ({"name": "db", "maxConcurrency": 5, "itemsPerSecond": -1}, "itemsPerSecond"),
    ({"name": "db", "maxConcurrency": 5, "itemsPerSecond": 1e12}, "itemsPerSecond"),
])
def test_bad_pool_values_are_refused_naming_the_field(api: TestClient, body: dict[str, Any],
                                                      field: str) -> None:
    response = api.post("/v1/pools", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    on_aws = aws(api, "StepmapCreatePool", body)
    assert on_aws.status_code == 400 and field in on_aws.json()["message"]


def test_a_pool_name_is_taken_once(api: TestClient) -> None:
    api.post("/v1/pools", json={"name": "db", "maxConcurrency": 4})
    again = aws(api, "StepmapCreatePool", {"name": "db", "maxConcurrency": 4})
    assert again.status_code == 400 and again.json()["__type"] == "ConflictException"


def test_removing_a_pool_in_use_is_refused_naming_the_map_run(
        api: TestClient, service: StepFunctionsService) -> None:
    api.post("/v1/pools", json={"name": "db", "maxConcurrency": 4})
    arn = open_map_run(service, pools=("db",))
    refused = api.delete("/v1/pools/db")
    assert refused.status_code == 400 and refused.json()["error"] == "ConflictException"
    assert arn in refused.json()["message"]
    assert api.get("/v1/pools/db").json()["mapRunArns"] == [arn]


def test_map_run_rates_change_live_and_show_in_describe_map_run(
        api: TestClient, service: StepFunctionsService, dispatched: list[str]) -> None:
    api.post("/v1/pools", json={"name": "db", "maxConcurrency": 4})
    arn = open_map_run(service, pools=("db",))
    described = aws(api, "DescribeMapRun", {"mapRunArn": arn}).json()
    assert described["stepmap"]["itemsPerSecond"] == 100.0 and described["stepmap"]["pools"] == ["db"]
    response = aws(api, "StepmapUpdateMapRunRate",
                   {"mapRunArn": arn, "childrenPerSecond": 7, "itemsPerSecond": 0})
    assert response.status_code == 200, response.text
    assert dispatched == [arn]  # the control plane is asked to dispatch at once
    described = api.get(f"/v1/map-runs/{arn}").json()
    assert described["stepmap"]["childrenPerSecond"] == 7.0
    assert "itemsPerSecond" not in described["stepmap"]
    patched = api.patch(f"/v1/map-runs/{arn}/rate", json={"itemsPerSecond": 250})
    assert patched.status_code == 200, patched.text
    assert api.get(f"/v1/map-runs/{arn}").json()["stepmap"]["itemsPerSecond"] == 250.0


def test_rate_updates_refuse_bad_values_and_closed_runs(
        api: TestClient, service: StepFunctionsService) -> None:
    arn = open_map_run(service)
    bad = api.patch(f"/v1/map-runs/{arn}/rate", json={"itemsPerSecond": "fast"})
    assert bad.status_code == 400 and "itemsPerSecond" in bad.text
    empty = aws(api, "StepmapUpdateMapRunRate", {"mapRunArn": arn})
    assert empty.status_code == 400 and "itemsPerSecond" in empty.json()["message"]
    missing = aws(api, "StepmapUpdateMapRunRate", {"mapRunArn": arn + "x", "itemsPerSecond": 1})
    assert missing.status_code == 400 and missing.json()["__type"] == "ResourceNotFound"
    assert service.limits is not None
    service.limits.map_runs.finish(  # type: ignore[attr-defined]
        arn, MapRunStatus.SUCCEEDED, stop_date=time.time())
    closed = aws(api, "StepmapUpdateMapRunRate", {"mapRunArn": arn, "itemsPerSecond": 1})
    assert closed.status_code == 400 and "completed" in closed.json()["message"]


def test_stepmap_tags_with_unusable_values_are_refused_naming_the_tag(api: TestClient) -> None:
    definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
    body = {"name": "m", "definition": definition,
            "roleArn": "arn:aws:iam::000000000000:role/r",
            "tags": [{"key": "stepmap:itemsPerSecond:Map", "value": "fast"}]}
    response = aws(api, "CreateStateMachine", body)
    assert response.status_code == 400
    assert "stepmap:itemsPerSecond:Map" in response.json()["message"]
    body["tags"] = [{"key": "stepmap:pools", "value": "db, a b"}]
    response = aws(api, "CreateStateMachine", body)
    assert response.status_code == 400 and "'a b'" in response.json()["message"]
    body["tags"] = [{"key": "stepmap:pools", "value": "db,api"},
                    {"key": "stepmap:childrenPerSecond", "value": "12.5"}]
    assert aws(api, "CreateStateMachine", body).status_code == 200


def test_the_cli_manages_pools_and_rates_through_the_v1_routes(
        server_url: str, service: StepFunctionsService) -> None:
    from typer.testing import CliRunner

    from orchestrator.cli import app

    runner = CliRunner()

    def stepmap(*args: str) -> Any:
        result = runner.invoke(app, [*args, "--endpoint", server_url])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert stepmap("pools", "create", "db", "--max-concurrency", "3")["maxConcurrency"] == 3
    assert stepmap("pools", "update", "db", "--items-per-second", "40")["itemsPerSecond"] == 40
    assert [p["name"] for p in stepmap("pools", "list")["pools"]] == ["db"]
    arn = open_map_run(service, pools=("db",))
    assert stepmap("pools", "describe", "db")["mapRunArns"] == [arn]
    refused = runner.invoke(app, ["pools", "delete", "db", "--endpoint", server_url])
    assert refused.exit_code == 1 and "in use" in refused.stderr
    assert stepmap("map-run-rate", arn, "--children-per-second", "5") == {}
    run = service.map_runs.describe_map_run(arn)  # type: ignore[union-attr]
    assert run["stepmap"]["childrenPerSecond"] == 5.0


def test_an_explicit_binding_at_start_is_checked_and_kept_on_the_execution(
        api: TestClient, service: StepFunctionsService) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    machine = api.post("/v1/state-machines", json={"name": "bound", "definition": definition})
    arn = machine.json()["stateMachineArn"]
    missing = api.post("/v1/executions", json={"stateMachineArn": arn,
                                               "stepmapBinding": {"pools": ["db"]}})
    assert missing.status_code == 404 and "'db'" in missing.json()["message"]
    bad = aws(api, "StartExecution", {"stateMachineArn": arn,
                                      "stepmapBinding": {"itemsPerSecond": "fast"}})
    assert bad.status_code == 400 and "stepmapBinding.itemsPerSecond" in bad.json()["message"]
    unknown = api.post("/v1/executions", json={"stateMachineArn": arn,
                                               "stepmapBinding": {"pool": ["db"]}})
    assert unknown.status_code == 400 and "pool" in unknown.json()["message"]
    api.post("/v1/pools", json={"name": "db", "maxConcurrency": 2})
    started = api.post("/v1/executions", json={
        "stateMachineArn": arn, "stepmapBinding": {"pools": ["db"], "childrenPerSecond": 3}})
    assert started.status_code == 200, started.text
    record = service.store.get_execution(started.json()["executionArn"])
    assert record is not None
    assert json.loads(record["stepmapBinding"]) == {"pools": ["db"], "childrenPerSecond": 3.0}

"""The stepmap extensions on both faces, over the real Map Run API on the real Redis.

Pause/resume (``POST /v1/map-runs/{arn}:pause|:resume``, ``StepmapPauseMapRun`` /
``StepmapResumeMapRun``), admission (``GET|PUT /v1/admission``, ``StepmapDescribeAdmission`` /
``StepmapUpdateAdmission``), DescribeMapRun's ``stepmap`` member, the metrics they feed, that
boto3 still parses DescribeMapRun, and that bad requests get 4xx errors naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import redis
from maprun_world import RecordingBus, request

from orchestrator import messages
from orchestrator.api import create_app
from orchestrator.executions.service import StepFunctionsService
from orchestrator.maprun import Deps
from orchestrator.maprun.api import MapRunApi
from orchestrator.maprun.starter import start_map_run
from orchestrator.settings import Settings
from orchestrator.statuses import MapRunStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.memory_store import MemoryStore
from tests.integration.api.support import FakePublisher, TestClient

EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:orders:run-{}"
AWS = {"Content-Type": "application/x-amz-json-1.0"}


class World:
    """The real Map Run API and coordinator parts on one Redis store."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.store = RedisMapRunStore(client, Keys(settings.redis.key_prefix))
        self.bus = RecordingBus()
        self.settings = settings
        self.deps = Deps(store=self.store, bus=self.bus, s3_factory=lambda: None,
                         settings=settings)
        self.sent: list[tuple[str, list[Any]]] = []
        self.api = MapRunApi(self.store, settings,
                             send_task=lambda name, args, queue: self.sent.append((name, args)))

    def start(self, n: int) -> str:
        return start_map_run(self.deps, request([1, 2, 3], max_concurrency=2),
                             EXECUTION.format(n))


@pytest.fixture
def world(settings: Settings, redis_url: str) -> Iterator[World]:
    client = redis.Redis.from_url(redis_url)
    yield World(settings.model_copy(update={"limits": settings.limits.model_copy(
        update={"open_map_runs": 2})}), client)
    client.close()


@pytest.fixture
def service(world: World) -> StepFunctionsService:
    """The service of conftest's ``client`` and ``server_url``: the real Map Run API."""
    return StepFunctionsService(MemoryStore(), world.settings, FakePublisher(), world.api)


@pytest.fixture
def client(world: World, service: StepFunctionsService) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings, service)) as test_client:
        yield test_client


def aws(client: TestClient, operation: str, body: Any) -> Any:
    return client.post("/", content=json.dumps(body),
                       headers={**AWS, "X-Amz-Target": f"AWSStepFunctions.{operation}"})


def test_pause_and_resume_on_the_v1_face(world: World, client: TestClient) -> None:
    arn = world.start(0)
    paused = client.post(f"/v1/map-runs/{arn}:pause")
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert (body["mapRunArn"], body["paused"]) == (arn, True)
    assert body["pausedDate"].endswith("+00:00")  # ISO-8601 on /v1
    described = client.get(f"/v1/map-runs/{arn}").json()
    assert described["status"] == "RUNNING" and described["stepmap"]["paused"] is True
    resumed = client.post(f"/v1/map-runs/{arn}:resume")
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    assert world.sent == [(messages.MAP_RUN_FEED, [arn])]


def test_pause_and_resume_on_the_aws_face(world: World, client: TestClient) -> None:
    arn = world.start(0)
    paused = aws(client, "StepmapPauseMapRun", {"mapRunArn": arn})
    assert paused.status_code == 200 and paused.json()["paused"] is True
    assert isinstance(paused.json()["pausedDate"], float)  # epoch seconds on the AWS face
    raw = aws(client, "DescribeMapRun", {"mapRunArn": arn}).json()
    assert raw["stepmap"]["paused"] is True
    resumed = aws(client, "StepmapResumeMapRun", {"mapRunArn": arn})
    assert resumed.status_code == 200 and resumed.json()["paused"] is False


def test_boto3_parses_describe_map_run_and_skips_the_stepmap_member(
        world: World, server_url: str) -> None:
    sfn = boto3.client("stepfunctions", endpoint_url=server_url, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    arns = [world.start(n) for n in range(3)]
    world.api.pause_map_run(arns[0])
    described = [sfn.describe_map_run(mapRunArn=arn) for arn in arns]
    assert [d["status"] for d in described] == ["RUNNING"] * 3
    assert all("stepmap" not in d for d in described)
    assert described[0]["itemCounts"]["total"] == 0


def test_admission_on_both_faces_and_a_queued_run_in_describe_map_run(
        world: World, client: TestClient) -> None:
    arns = [world.start(n) for n in range(4)]
    state = client.get("/v1/admission").json()
    assert (state["openMapRunLimit"], state["limitSource"]) == (2, "settings")
    assert (state["openMapRuns"], state["backlogSize"]) == (2, 2)
    assert state["backlog"] == [{"mapRunArn": arns[2], "queuePosition": 1},
                                {"mapRunArn": arns[3], "queuePosition": 2}]
    ext = client.get(f"/v1/map-runs/{arns[3]}").json()["stepmap"]
    assert (ext["queued"], ext["queuePosition"]) == (True, 2)
    assert ext["queuedDate"].endswith("+00:00")
    changed = aws(client, "StepmapUpdateAdmission", {"openMapRunLimit": 3})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["openMapRuns"], changed.json()["limitSource"]) == (3, "live")
    assert world.sent == [(messages.MAP_RUN_FEED, [arns[2]])]
    assert aws(client, "StepmapDescribeAdmission", {}).json()["backlogSize"] == 1
    reset = client.put("/v1/admission", json={"useSettingsLimit": True}).json()
    assert (reset["openMapRunLimit"], reset["limitSource"]) == (2, "settings")


def test_the_metrics_show_the_open_count_limit_backlog_and_paused_runs(
        world: World, client: TestClient) -> None:
    arns = [world.start(n) for n in range(5)]
    world.api.pause_map_run(arns[0])
    text = client.get("/metrics").text
    series = dict(line.rsplit(" ", 1) for line in text.splitlines()
                  if line and not line.startswith("#"))
    assert float(series["stepmap_open_map_runs"]) == 2
    assert float(series["stepmap_open_map_runs_limit"]) == 2
    assert float(series["stepmap_map_run_backlog"]) == 3
    assert float(series["stepmap_paused_map_runs"]) == 1


@pytest.mark.parametrize(("body", "words"), [
    ({}, "exactly one of openMapRunLimit"),
    ({"openMapRunLimit": -1}, "openMapRunLimit"),
    ({"openMapRunLimit": 5, "useSettingsLimit": True}, "exactly one"),
    ({"openMapRunLimit": "5"}, "openMapRunLimit"),
    ({"useSettingsLimit": "yes"}, "useSettingsLimit"),
    ({"openMapRunLimit": 2_000_000}, "1000000"),
])
def test_a_bad_admission_change_is_a_400_naming_the_field(
        client: TestClient, body: Any, words: str) -> None:
    for response in (client.put("/v1/admission", json=body),
                     aws(client, "StepmapUpdateAdmission", body)):
        assert response.status_code == 400, response.text
        assert words in response.text


def test_pausing_what_cannot_be_paused_is_a_4xx_naming_it(world: World,
                                                          client: TestClient) -> None:
    unknown = "arn:aws:states:us-east-1:000000000000:mapRun:orders/x:none"
    response = client.post(f"/v1/map-runs/{unknown}:pause")
    assert response.status_code == 404 and unknown in response.text
    assert aws(client, "StepmapPauseMapRun", {"mapRunArn": "nope"}).status_code == 400
    assert aws(client, "StepmapResumeMapRun", {}).status_code == 400
    arn = world.start(0)
    world.store.finish(arn, MapRunStatus.ABORTED, stop_date=1.0)
    response = client.post(f"/v1/map-runs/{arn}:pause")
    assert response.status_code == 400 and "closing or closed" in response.text
    response = aws(client, "StepmapResumeMapRun", {"mapRunArn": arn})
    assert response.status_code == 400 and "redrive its execution" in response.text


def test_the_cli_pauses_resumes_and_sets_the_limit_through_the_api(
        world: World, server_url: str) -> None:
    from typer.testing import CliRunner

    from orchestrator.cli import app

    runner = CliRunner()
    arn = world.start(0)
    paused = runner.invoke(app, ["map-run", "pause", arn, "--endpoint", server_url])
    assert paused.exit_code == 0, paused.output
    assert json.loads(paused.output)["paused"] is True
    resumed = runner.invoke(app, ["map-run", "resume", arn, "--endpoint", server_url])
    assert resumed.exit_code == 0 and json.loads(resumed.output)["paused"] is False
    set_limit = runner.invoke(app, ["admission", "set", "7", "--endpoint", server_url])
    assert set_limit.exit_code == 0 and json.loads(set_limit.output)["openMapRunLimit"] == 7
    shown = runner.invoke(app, ["admission", "show", "--endpoint", server_url])
    assert json.loads(shown.output)["limitSource"] == "live"
    reset = runner.invoke(app, ["admission", "reset", "--endpoint", server_url])
    assert json.loads(reset.output)["limitSource"] == "settings"
    # An error answer: its code on stderr, exit status 1
    unknown = arn.rsplit(":", 1)[0] + ":none"
    failed = runner.invoke(app, ["map-run", "pause", unknown, "--endpoint", server_url])
    assert failed.exit_code == 1 and "HTTP 404" in failed.output

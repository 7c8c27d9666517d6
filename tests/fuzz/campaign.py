"""One fuzz campaign: a real uvicorn server on loopback over a real Redis, both faces, definitions.

The server is the production app (``create_app``) on a :class:`RedisStore` and the real
Map Run API; only the control-plane publisher records instead of sending (no workers run).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
import uvicorn

from orchestrator.api import create_app
from orchestrator.executions.service import StepFunctionsService
from orchestrator.maprun.api import MapRunApi
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys
from orchestrator.store.redis_store import RedisStore
from tests.fuzz import definitions
from tests.fuzz.aws_face import AwsFaceGenerator
from tests.fuzz.driver import Driver, Figures, HttpRequest
from tests.fuzz.rest_face import RestFaceGenerator
from tests.fuzz.values import dumps

ROLE = "arn:aws:iam::000000000000:role/stepmap"
PROBE_EVERY = 250
PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


class _Publisher:
    """The control plane's side of the service, recorded (nothing runs the executions)."""

    def __init__(self) -> None:
        self.calls = 0

    def advance_execution(self, execution_arn: str) -> None:
        self.calls += 1

    def stop_execution(self, execution_arn: str) -> None:
        self.calls += 1

    def redrive_execution(self, execution_arn: str) -> None:
        self.calls += 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(redis_url: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """A real server on a free loopback port; yields (port, its OpenAPI document)."""
    settings = Settings.model_validate(
        {"redis": {"url": redis_url}, "api": {"auth_enabled": False, "max_request_bytes": 65_536}}
    )
    client = redis.Redis.from_url(redis_url)
    keys = Keys(settings.redis.key_prefix)
    service = StepFunctionsService(RedisStore(client, keys), settings,
                                   _Publisher(), MapRunApi(RedisMapRunStore(client, keys), settings))
    app = create_app(settings, service)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield port, app.openapi()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        client.close()


def _aws(driver: Driver, operation: str, body: dict[str, Any]) -> Any:
    answer = driver.send(HttpRequest(
        "POST", "/", {"X-Amz-Target": f"AWSStepFunctions.{operation}",
                      "Content-Type": "application/x-amz-json-1.0"},
        json.dumps(body).encode(), "setup"))
    return answer[1] if answer else None


def _seed(driver: Driver) -> dict[str, list[Any]]:
    """Create resources the generated requests can reach; the pool of good values."""
    machines, executions = [], []
    for name in ("fuzz-a", "fuzz-b"):
        made = _aws(driver, "CreateStateMachine",
                    {"name": name, "definition": json.dumps(PASS), "roleArn": ROLE})
        machines.append(made["stateMachineArn"])
    for i in range(3):
        started = _aws(driver, "StartExecution",
                       {"stateMachineArn": machines[0], "name": f"e{i}", "input": "{}"})
        executions.append(started["executionArn"])
    _aws(driver, "ListExecutions", {"stateMachineArn": machines[0], "maxResults": 1})
    _aws(driver, "ListStateMachines", {"maxResults": 1})
    map_run = machines[0].replace(":stateMachine:", ":mapRun:") + "/M:5c6f4a9e-1111-2222-3333"
    child = machines[0].replace(":stateMachine:", ":execution:") + "/M:1c2d3e4f-0000"
    arns = machines + executions + [map_run, child, machines[0] + ":label"]
    return {
        "stateMachineArn": machines + [machines[0] + ":label"], "executionArn": executions + [child],
        "mapRunArn": [map_run], "arn": arns, "definition": [json.dumps(PASS), PASS],
        "input": ["{}", '{"a": [1, 2]}', {"a": 1}], "roleArn": [ROLE], "name": ["n1", "n-2"],
    }


def run(redis_url: str, requests: int, definition_count: int, seed: int) -> Figures:
    """Run a campaign: ``requests`` generated requests across both faces, then
    ``definition_count`` mutated definitions; returns the figures."""
    rng = random.Random(seed)
    with serving(redis_url) as (port, openapi):
        tokens: list[str] = []
        driver = Driver("127.0.0.1", port, tokens)
        pool = _seed(driver)
        aws_gen = AwsFaceGenerator(rng, pool, tokens)
        rest_gen = RestFaceGenerator(rng, openapi, pool, tokens)
        for i in range(requests):
            generator = aws_gen if rng.random() < 0.5 else rest_gen
            driver.send(generator.request())
            if i % PROBE_EVERY == 0:
                driver.probe()
        _definitions(driver, rng, definition_count)
        driver.probe()
        driver.close()
        figures = driver.figures
        figures.requests.pop("setup", None)
        return figures


def _definitions(driver: Driver, rng: random.Random, count: int) -> None:
    sources = definitions.sources()
    figures = driver.figures
    for i in range(count):
        base, execution_input = rng.choice(sources)
        text = dumps(definitions.mutate(base, rng))
        if rng.random() < 0.5:
            answer = driver.send(HttpRequest(
                "POST", "/", {"X-Amz-Target": "AWSStepFunctions.ValidateStateMachineDefinition",
                              "Content-Type": "application/x-amz-json-1.0"},
                json.dumps({"definition": text}).encode(), "definitions"))
            accepted = bool(answer and answer[0] == 200 and answer[1]["result"] == "OK")
        else:
            answer = driver.send(HttpRequest(
                "POST", "/v1/state-machines", {"Content-Type": "application/json"},
                json.dumps({"name": f"d{i}", "definition": text}).encode(), "definitions"))
            accepted = bool(answer and answer[0] == 200)
        figures.definitions["accepted" if accepted else "refused"] += 1
        if accepted:
            problem = definitions.run_to_the_end(text, execution_input, seed=i)
            figures.definitions["ran to a terminal state" if problem is None else "stuck"] += 1
            if problem is not None:
                figures.engine_failures.append(f"{problem} in {text[:300]}")

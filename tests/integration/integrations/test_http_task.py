"""The HTTP Task on a worker against a real HTTP server on loopback (issue 11 part 4)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from orchestrator.asl import StatesError, TaskRequest
from orchestrator.settings import HttpConnection
from tests.integration.integrations.loopback_http import (  # noqa: F401 - server is a fixture
    LoopbackServer,
    loopback_server,
    server,
)
from workers.integrations import WorkerIntegrations
from workers.integrations.http_task import HttpTask, form_pairs
from workers.invoker import WorkerTaskInvoker

BASIC = "arn:aws:events:us-east-1:000000000000:connection/basic/1"
KEY = "arn:aws:events:us-east-1:000000000000:connection/key/2"


@pytest.fixture
def invoker(server: LoopbackServer) -> WorkerTaskInvoker:
    connections = [
        HttpConnection(connection_arn=BASIC, authorization_type="BASIC", username="u",
                       password=SecretStr("p")),
        HttpConnection(connection_arn=KEY, authorization_type="API_KEY", api_key_name="X-Api-Key",
                       api_key_value=SecretStr("k123")),
    ]
    http = HttpTask([f"127.0.0.1:{server.port}"], connections, timeout_seconds=10)
    return WorkerTaskInvoker(integrations=WorkerIntegrations(http=http))


def call(invoker: WorkerTaskInvoker, **parameters: Any) -> Any:
    return invoker.invoke(TaskRequest(state_name="Call", resource="arn:aws:states:::http:invoke",
                                      parameters=parameters))


def failure(invoker: WorkerTaskInvoker, **parameters: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        call(invoker, **parameters)
    return caught.value


def test_a_get_returns_aws_shape_with_the_parsed_json_body(server: LoopbackServer,
                                                           invoker: WorkerTaskInvoker) -> None:
    result = call(invoker, ApiEndpoint=f"{server.base}/items?fixed=1", Method="GET",
                  QueryParameters={"q": "a b", "tag": ["x", "y"]}, Headers={"X-Trace": "t1"})
    assert set(result) == {"Headers", "ResponseBody", "StatusCode", "StatusText"}
    assert (result["StatusCode"], result["StatusText"]) == (200, "OK")
    assert result["Headers"]["x-probe"] == ["one"]
    assert result["ResponseBody"]["path"] == "/items"
    assert result["ResponseBody"]["query"] == [["fixed", "1"], ["q", "a b"], ["tag", "x"],
                                              ["tag", "y"]]
    assert server.seen[-1].headers["x-trace"] == "t1"


def test_a_json_request_body_is_sent_as_json(server: LoopbackServer,
                                             invoker: WorkerTaskInvoker) -> None:
    result = call(invoker, ApiEndpoint=f"{server.base}/create", Method="POST",
                  RequestBody={"name": "n", "count": 2})
    assert json.loads(result["ResponseBody"]["body"]) == {"name": "n", "count": 2}
    assert server.seen[-1].headers["content-type"] == "application/json"


def test_url_encoded_bodies_follow_the_array_format(server: LoopbackServer,
                                                    invoker: WorkerTaskInvoker) -> None:
    call(invoker, ApiEndpoint=f"{server.base}/form", Method="POST",
         RequestBody={"a": ["x", "y"], "b": "1 2"},
         Transform={"RequestBodyEncoding": "URL_ENCODED",
                    "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}})
    seen = server.seen[-1]
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.body == b"a%5B%5D=x&a%5B%5D=y&b=1%202"


@pytest.mark.parametrize(("array_format", "pairs"), [
    ("INDICES", [("a[0]", "x"), ("a[1]", "y"), ("n[k]", "v")]),
    ("REPEAT", [("a", "x"), ("a", "y"), ("n[k]", "v")]),
    ("COMMAS", [("a", "x,y"), ("n[k]", "v")]),
    ("BRACKETS", [("a[]", "x"), ("a[]", "y"), ("n[k]", "v")]),
])
def test_form_pairs_encode_arrays_as_aws_names_them(array_format: str,
                                                    pairs: list[tuple[str, str]]) -> None:
    assert form_pairs({"a": ["x", "y"], "n": {"k": "v"}}, array_format) == pairs


def test_connections_add_basic_or_api_key_authorization(server: LoopbackServer,
                                                        invoker: WorkerTaskInvoker) -> None:
    call(invoker, ApiEndpoint=f"{server.base}/auth", Method="GET",
         Authentication={"ConnectionArn": BASIC})
    assert server.seen[-1].headers["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    call(invoker, ApiEndpoint=f"{server.base}/auth", Method="GET",
         Authentication={"ConnectionArn": KEY})
    assert server.seen[-1].headers["x-api-key"] == "k123"
    unknown = failure(invoker, ApiEndpoint=f"{server.base}/auth", Method="GET",
                      Authentication={"ConnectionArn": "arn:aws:events:x"})
    assert unknown.error == "States.TaskFailed" and "http_connections" in unknown.cause


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_a_status_outside_2xx_fails_with_its_states_http_status_code_error(
        server: LoopbackServer, invoker: WorkerTaskInvoker, status: int) -> None:
    error = failure(invoker, ApiEndpoint=f"{server.base}/status/{status}", Method="GET")
    assert error.error == f"States.Http.StatusCode.{status}"
    cause = json.loads(error.cause)
    assert cause["StatusCode"] == status
    assert cause["ResponseBody"] == {"error": f"status {status} on purpose"}


def test_a_redirect_is_not_followed(server: LoopbackServer, invoker: WorkerTaskInvoker) -> None:
    error = failure(invoker, ApiEndpoint=f"{server.base}/redirect", Method="GET")
    assert error.error == "States.Http.StatusCode.302"
    assert server.seen[-1].path == "/redirect"


def test_a_text_body_stays_text(server: LoopbackServer, invoker: WorkerTaskInvoker) -> None:
    assert call(invoker, ApiEndpoint=f"{server.base}/text", Method="GET")["ResponseBody"] == \
        "plain words"


def test_a_host_off_the_allowlist_fails_at_run_time_without_a_request(
        server: LoopbackServer, invoker: WorkerTaskInvoker) -> None:
    before = len(server.seen)
    error = failure(invoker, ApiEndpoint="http://localhost:1/x", Method="GET")
    assert error.error == "States.TaskFailed"
    assert "host 'localhost'" in error.cause and "http_allowed_hosts" in error.cause
    assert "HTTP Task 'Call'" in error.cause
    assert len(server.seen) == before


def test_a_refused_connection_fails_with_states_http_socket() -> None:
    with loopback_server() as gone:
        port = gone.port
    http = HttpTask([f"127.0.0.1:{port}"], [], timeout_seconds=5)
    invoker = WorkerTaskInvoker(integrations=WorkerIntegrations(http=http))
    error = failure(invoker, ApiEndpoint=f"http://127.0.0.1:{port}/", Method="GET")
    assert error.error == "States.Http.Socket"


def test_bad_parameters_fail_naming_the_field(server: LoopbackServer,
                                              invoker: WorkerTaskInvoker) -> None:
    assert "Method 'FETCH'" in failure(invoker, ApiEndpoint=server.base, Method="FETCH").cause
    assert "Headers must be an object" in failure(invoker, ApiEndpoint=server.base,
                                                  Method="GET", Headers=[1]).cause
    assert "ApiEndpoint must be a string" in failure(invoker, Method="GET").cause


def test_an_integration_that_is_off_on_the_worker_fails_the_task_saying_so() -> None:
    error = failure(WorkerTaskInvoker(), ApiEndpoint="http://127.0.0.1/", Method="GET")
    assert error.error == "States.TaskFailed"
    assert "STEPMAP_INTEGRATIONS__HTTP_INVOKE" in error.cause

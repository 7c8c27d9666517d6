"""SigV4 on the AWS face: boto3 without hooks, refused signatures, scopes (real server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from orchestrator.settings import Settings
from tests.integration.api.support import PASS_DEFINITION, REGION, ROLE

ADMIN = ("AKIDSTEPMAPADMIN0001", "admin-secret-value")
READER = ("AKIDSTEPMAPREADER001", "reader-secret-value")
TOKEN = "plain-token"


@pytest.fixture
def settings(settings: Settings, tmp_path: Any) -> Settings:
    """The suite's settings with auth on: one admin key (secret in a file), one read-only."""
    secret_file = tmp_path / "admin.secret"
    secret_file.write_text(ADMIN[1] + "\n")
    api = settings.api.model_dump() | {
        "auth_enabled": True,
        "tokens": [TOKEN],
        "access_keys": [
            {"access_key_id": ADMIN[0], "secret_file": str(secret_file)},
            {"access_key_id": READER[0], "secret_access_key": READER[1], "scope": "read-only"},
        ],
    }
    return Settings.model_validate(settings.model_dump() | {"api": api})


def client(server_url: str, key: tuple[str, str]) -> Any:
    return boto3.client(
        "stepfunctions", endpoint_url=server_url, region_name=REGION,
        aws_access_key_id=key[0], aws_secret_access_key=key[1],
    )


def signed(server_url: str, body: bytes, *, at: datetime, key: tuple[str, str] = ADMIN,
           operation: str = "ListStateMachines") -> AWSRequest:
    """A request signed by botocore's signer at time ``at`` (not necessarily now)."""
    host = server_url.removeprefix("http://")
    request = AWSRequest(
        method="POST", url=server_url + "/", data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "Host": host,
                 "X-Amz-Target": f"AWSStepFunctions.{operation}"},
    )
    stamp = at.strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = stamp
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(*key), "states", REGION)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    headers = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key[0]}/{signer.credential_scope(request)}, "
        f"SignedHeaders={headers}, Signature={signature}"
    )
    return request


def send(server_url: str, request: AWSRequest, body: bytes | None = None) -> httpx.Response:
    return httpx.post(server_url + "/", content=request.body if body is None else body,
                      headers=dict(request.headers.items()))


def error_code(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_boto3_without_hooks_works_with_auth_on(server_url: str) -> None:
    sfn = client(server_url, ADMIN)
    arn = sfn.create_state_machine(name="signed", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    assert [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]] == [arn]


def test_wrong_secret_and_unknown_key_are_refused(server_url: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as wrong:
        client(server_url, (ADMIN[0], "not-the-secret")).list_state_machines()
    assert error_code(wrong) == "InvalidSignatureException"
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        client(server_url, ("AKIDNOBODYKNOWS00001", "x")).list_state_machines()
    assert error_code(unknown) == "UnrecognizedClientException"


def test_a_correct_signature_from_a_skewed_clock_is_refused(server_url: str) -> None:
    now = datetime.now(UTC)
    assert send(server_url, signed(server_url, b"{}", at=now)).json() == {"stateMachines": []}
    late = send(server_url, signed(server_url, b"{}", at=now - timedelta(minutes=10)))
    assert late.status_code == 400
    assert late.json()["__type"] == "InvalidSignatureException"
    assert "skew" in late.json()["message"]


def test_a_tampered_body_is_refused(server_url: str) -> None:
    body = json.dumps({"name": "a", "definition": PASS_DEFINITION, "roleArn": ROLE}).encode()
    request = signed(server_url, body, at=datetime.now(UTC), operation="CreateStateMachine")
    tampered = send(server_url, request, body.replace(b'"a"', b'"b"'))
    assert tampered.json()["__type"] == "InvalidSignatureException"
    assert send(server_url, request).json()["stateMachineArn"].endswith(":stateMachine:a")


def test_read_only_key_reads_but_cannot_create(server_url: str) -> None:
    reader = client(server_url, READER)
    assert reader.list_state_machines()["stateMachines"] == []
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        reader.create_state_machine(name="x", definition=PASS_DEFINITION, roleArn=ROLE)
    assert error_code(denied) == "AccessDeniedException"
    assert "states:CreateStateMachine" in denied.value.response["Error"]["Message"]


def test_token_header_is_still_accepted_next_to_sigv4(server_url: str) -> None:
    sfn = client(server_url, ("AKIDNOBODYKNOWS00001", "x"))
    sfn.meta.events.register(
        "before-sign.states.*",
        lambda request, **_: request.headers.__setitem__("X-Stepmap-Token", TOKEN),
    )
    assert sfn.list_state_machines()["stateMachines"] == []


def test_scopes_over_the_model_operations() -> None:
    from orchestrator.api.sigv4 import scope_allows

    model = botocore.session.get_session().get_service_model("stepfunctions").operation_names
    reads = {op for op in model if scope_allows("read-only", op)}
    runs = {op for op in model if scope_allows("execute", op)} - reads
    named = {op for op in model if op.startswith(("Describe", "List", "Get"))}
    assert reads == (named | {"ValidateStateMachineDefinition"}) - {"GetActivityTask"}
    # GetActivityTask takes work (an activity task): "execute", though its name reads "Get".
    assert runs == {"StartExecution", "StartSyncExecution", "StopExecution", "RedriveExecution",
                    "TestState", "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat",
                    "GetActivityTask"}
    assert all(scope_allows("admin", op) for op in model)
    assert not scope_allows("execute", "UpdateStateMachine")

"""StartSyncExecution through boto3 (host prefix off) against a real server.

The control plane is played by a publisher that ends the execution when asked to run it
(the end-to-end run with real workers is in tests/e2e/test_aws_cli.py).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from orchestrator.executions.service import StepFunctionsService
from tests.integration.api.support import PASS_DEFINITION, REGION, ROLE, TestClient, finish


class EndingPublisher:
    """Ends every execution it is asked to run, from another thread, as the control plane would."""

    def __init__(self) -> None:
        self.service: StepFunctionsService | None = None

    def advance_execution(self, execution_arn: str) -> None:
        assert self.service is not None
        service = self.service
        threading.Thread(
            target=finish, args=(service, execution_arn, "SUCCEEDED"), kwargs={"output": '{"ok":1}'}
        ).start()

    def stop_execution(self, execution_arn: str) -> None: ...

    def redrive_execution(self, execution_arn: str) -> None: ...


@pytest.fixture
def sync_sfn(server_url: str, service: StepFunctionsService) -> Any:
    publisher = EndingPublisher()
    publisher.service = service
    service.publisher = publisher
    return boto3.client(
        "stepfunctions", endpoint_url=server_url, region_name=REGION,
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(inject_host_prefix=False),
    )


def test_start_sync_execution_answers_with_the_ended_execution(sync_sfn: Any) -> None:
    machine = sync_sfn.create_state_machine(
        name="quick", definition=PASS_DEFINITION, roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    out = sync_sfn.start_sync_execution(stateMachineArn=machine, name="s1", input='{"a":1}')
    assert (out["status"], out["output"], out["input"], out["name"]) == (
        "SUCCEEDED", '{"ok":1}', '{"a":1}', "s1")
    assert out["stopDate"] >= out["startDate"]
    assert out["billingDetails"]["billedDurationInMilliseconds"] >= 100
    meta = sync_sfn.start_sync_execution(stateMachineArn=machine, includedData="METADATA_ONLY")
    assert "output" not in meta and "input" not in meta


def test_start_sync_execution_refuses_standard_machines(sync_sfn: Any) -> None:
    machine = sync_sfn.create_state_machine(name="slow", definition=PASS_DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sync_sfn.start_sync_execution(stateMachineArn=machine)
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_start_sync_execution_on_v1(client: TestClient, service: StepFunctionsService) -> None:
    publisher = EndingPublisher()
    publisher.service = service
    service.publisher = publisher
    created = client.post("/v1/state-machines", json={"name": "q", "type": "EXPRESS",
                                                      "definition": PASS_DEFINITION})
    machine = created.json()["stateMachineArn"]
    out = client.post("/v1/executions/sync", json={"stateMachineArn": machine, "input": {"a": 1}})
    assert out.status_code == 200, out.text
    assert (out.json()["status"], json.loads(out.json()["input"])) == ("SUCCEEDED", {"a": 1})
    assert out.json()["stopDate"].endswith("+00:00")

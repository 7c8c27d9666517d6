"""``arn:aws:states:::aws-sdk:s3:<action>`` on a worker, against the configured S3.

Parameters are the AWS SDK's, in PascalCase (``Bucket``, ``Key``, ``Body``, ``Prefix``,
``CopySource``, ...), and are passed to boto3 as they are; the result is the SDK's response
without its ``ResponseMetadata``, timestamps as ISO-8601 text. ``getObject`` returns ``Body``
as text (UTF-8; bytes that are not UTF-8 are replaced); ``putObject`` takes a string ``Body``
as it is and any other JSON value as its compact JSON text.

Errors are named as AWS names SDK integration errors: ``S3.`` + the error code in PascalCase
+ ``Exception`` when the code does not end with it (``NoSuchKey`` -> ``S3.NoSuchKeyException``;
a ``headObject`` of a missing key, which S3 answers with a bare 404, is
``S3.NoSuchKeyException`` too). Parameters boto3 refuses fail with ``States.TaskFailed``
naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from orchestrator.asl import StatesError, TaskRequest
from orchestrator.asl import errors as asl_errors
from orchestrator.jsontext import dumps
from orchestrator.resources import S3_ACTIONS

#: S3's bare HTTP status codes (HEAD has no error body) as the error codes they stand for.
_STATUS_CODES = {"404": "NoSuchKey", "403": "AccessDenied", "400": "BadRequest",
                 "NotFound": "NoSuchKey"}


def error_name(code: str, action: str) -> str:
    """AWS's name of an S3 error in a Task: ``S3.<Code>Exception``."""
    code = _STATUS_CODES.get(code, code) if action == "headObject" or code.isdigit() else code
    name = code[:1].upper() + code[1:]
    return f"S3.{name}" + ("" if name.endswith("Exception") else "Exception")


def _plain(value: Any) -> Any:
    """An SDK response value as JSON: timestamps as ISO text, bytes as text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _snake(action: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in action)


class S3Task:
    """Runs the S3 actions of :data:`orchestrator.resources.S3_ACTIONS` with a boto3 client."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._factory = client_factory
        self._client: Any = None

    def client(self) -> Any:
        """The boto3 S3 client (made on first use; boto3 clients are thread-safe)."""
        if self._client is None:
            self._client = self._factory()
        return self._client

    def invoke(self, action: str, request: TaskRequest) -> Any:
        """Call the action; the SDK response as JSON, or raise :class:`StatesError`."""
        if action not in S3_ACTIONS:
            raise StatesError(asl_errors.TASK_FAILED, f"Task '{request.state_name}': S3 action "
                              f"'{action}' is not run by stepmap ({', '.join(S3_ACTIONS)})")
        if not isinstance(request.parameters, Mapping):
            raise StatesError(asl_errors.TASK_FAILED, f"Task '{request.state_name}': the "
                              f"parameters of s3:{action} must be an object")
        params = dict(request.parameters)
        if action == "putObject" and "Body" in params and not isinstance(params["Body"], str):
            params["Body"] = dumps(params["Body"])
        if action == "putObject" and isinstance(params.get("Body"), str):
            params["Body"] = params["Body"].encode()
        try:
            response = getattr(self.client(), _snake(action))(**params)
            if action == "getObject":
                response["Body"] = response["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            code = str(error.get("Code") or meta.get("HTTPStatusCode") or "Unknown")
            message = error.get("Message") or exc.response.get("Error", {}).get("Code") or code
            raise StatesError(error_name(code, action),
                              f"{message} (Service: S3, Status Code: {meta.get('HTTPStatusCode')}"
                              f", Request ID: {meta.get('RequestId')})") from exc
        except ParamValidationError as exc:
            raise StatesError(asl_errors.TASK_FAILED,
                              f"Task '{request.state_name}': s3:{action}: {exc}") from exc
        except BotoCoreError as exc:
            raise StatesError(asl_errors.TASK_FAILED,
                              f"Task '{request.state_name}': s3:{action}: {exc}") from exc
        response.pop("ResponseMetadata", None)
        return _plain(response)

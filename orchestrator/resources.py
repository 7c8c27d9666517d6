"""Task resources stepmap knows by name: what a ``Resource`` ARN asks for, decided once.

A pure leaf (no project import): the create-time checks (``executions/runnable.py``), the
wire contract (``messages.waits_for_answer``), the control plane and the workers all classify
resources here, so that what is accepted at create is exactly what runs.

Integrations beyond Lambda-style handlers and activities (issue 11 part 4), each enabled in
``settings.integrations``:

* ``arn:aws:states:::states:startExecution`` (plain), ``.sync`` and ``.sync:2``: nested
  executions of this stepmap, started and waited for by the control plane;
* ``arn:aws:states:::http:invoke``: the HTTP Task, run by a worker against an allowlist of hosts;
* ``arn:aws:states:::aws-sdk:s3:<action>``: a few S3 actions on the configured S3, run by a worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

START_EXECUTION = "arn:aws:states:::states:startExecution"
#: The integration patterns of ``states:startExecution`` stepmap runs ("" is request-response).
START_EXECUTION_PATTERNS = ("", ".sync", ".sync:2")
HTTP_INVOKE = "arn:aws:states:::http:invoke"
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
S3_SDK_PREFIX = "arn:aws:states:::aws-sdk:s3:"
#: The S3 actions of ``aws-sdk:s3:<action>`` stepmap runs (the AWS SDK's camelCase names).
S3_ACTIONS = ("copyObject", "deleteObject", "getObject", "headObject", "listObjectsV2",
              "putObject")


def start_execution_pattern(resource: str) -> str | None:
    """The suffix after ``states:startExecution`` ("" for plain), or None for other resources."""
    if resource == START_EXECUTION or resource.startswith(START_EXECUTION + "."):
        return resource[len(START_EXECUTION):]
    return None


def s3_action(resource: str) -> str | None:
    """The action named by an ``aws-sdk:s3:<action>[.pattern]`` resource, else None."""
    if resource.startswith(S3_SDK_PREFIX):
        return resource[len(S3_SDK_PREFIX):]
    return None


def runs_in_control_plane(resource: str) -> bool:
    """Whether a Task with this resource is started by the control plane (nested executions)."""
    return start_execution_pattern(resource) in START_EXECUTION_PATTERNS


def host_refusal(url: object, allowed_hosts: Iterable[str]) -> str | None:
    """Why an HTTP Task may not call ``url``, or None when it may.

    ``allowed_hosts`` entries are host names (``api.example.com``), host and port
    (``127.0.0.1:8080``), or a suffix wildcard (``*.example.com``); matching ignores case.
    """
    if not isinstance(url, str):
        return f"ApiEndpoint must be a string, got {type(url).__name__}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"ApiEndpoint '{url}' is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"ApiEndpoint '{url}' is not an http:// or https:// URL with a host"
    host = parts.hostname.lower()
    for entry in (e.strip().lower() for e in allowed_hosts):
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return None
        name, _, entry_port = entry.partition(":")
        if name == host and (not entry_port or (port is not None and entry_port == str(port))):
            return None
    allowed = ", ".join(sorted(allowed_hosts)) or "none"
    return (f"host '{host}' of ApiEndpoint '{url}' is not allowed (integrations.http_allowed_hosts:"
            f" {allowed})")

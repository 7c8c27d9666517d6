"""Task integrations a worker runs besides handlers: the HTTP Task and ``aws-sdk:s3``.

Each is built only when ``settings.integrations`` enables it; a Task that reaches a worker
where it is off (the definition was created while it was on) fails with ``States.TaskFailed``
saying so. ``states:startExecution`` never reaches a worker: the control plane runs it
(``orchestrator/control/nested.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.asl import StatesError, TaskRequest
from orchestrator.asl import errors as asl_errors
from orchestrator.resources import HTTP_INVOKE, s3_action
from orchestrator.s3client import s3_client
from orchestrator.settings import Settings
from workers.integrations.http_task import HttpTask
from workers.integrations.s3_task import S3Task


@dataclass
class WorkerIntegrations:
    """The integrations this worker runs (None: not enabled)."""

    http: HttpTask | None = None
    s3: S3Task | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerIntegrations:
        """What ``settings.integrations`` enables, against the configured S3."""
        config = settings.integrations
        http = (HttpTask(config.http_allowed_hosts, config.http_connections,
                         config.http_timeout_seconds) if config.http_invoke else None)
        return cls(http=http,
                   s3=S3Task(lambda: s3_client(settings)) if config.s3_sdk else None)

    def handles(self, resource: str) -> bool:
        """Whether ``resource`` is an integration of this module (enabled or not)."""
        return resource == HTTP_INVOKE or s3_action(resource) is not None

    def invoke(self, request: TaskRequest) -> Any:
        """Run an integration Task; raise :class:`StatesError` when it fails or is off."""
        action = s3_action(request.resource)
        if request.resource == HTTP_INVOKE and self.http is not None:
            return self.http.invoke(request)
        if action is not None and self.s3 is not None:
            return self.s3.invoke(action, request)
        variable = "HTTP_INVOKE" if action is None else "S3_SDK"
        raise StatesError(asl_errors.TASK_FAILED, f"Task '{request.state_name}': resource "
                          f"'{request.resource}' is not enabled on this worker "
                          f"(STEPMAP_INTEGRATIONS__{variable})")

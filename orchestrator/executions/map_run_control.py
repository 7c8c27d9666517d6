"""The service side of the stepmap extensions to Map Runs: pause, resume, admission.

A service mixin (like ``callbacks``) validating requests and delegating to the Map Run API's
:class:`MapRunControl` part (``orchestrator.maprun.control_api``). Request and response
members are camelCase as on every operation; none of them exists on AWS
(docs/extensions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from orchestrator.executions import arns, params
from orchestrator.executions.errors import ResourceNotFound, ValidationException

Request = Mapping[str, Any]
Response = dict[str, Any]


@runtime_checkable
class MapRunControl(Protocol):
    """What the Map Run API offers beyond AWS's operations."""

    def pause_map_run(self, map_run_arn: str) -> dict[str, Any]: ...

    def resume_map_run(self, map_run_arn: str) -> dict[str, Any]: ...

    def describe_admission(self) -> dict[str, Any]: ...

    def update_admission(self, open_map_run_limit: int | None) -> dict[str, Any]: ...


class MapRunControlMixin:
    """StepmapPauseMapRun, StepmapResumeMapRun, StepmapDescribeAdmission, StepmapUpdateAdmission."""

    def _control(self, what: str) -> MapRunControl:
        # The service's ``map_runs`` (the Map Run API), when it offers the extensions.
        map_runs = getattr(self, "map_runs", None)
        if not isinstance(map_runs, MapRunControl):
            raise ResourceNotFound(f"Resource not found: '{what}'")
        return map_runs

    def _map_run_arn(self, request: Request) -> str:
        arn = params.required_str(request, "mapRunArn", arns.MAX_LONG_ARN_LENGTH)
        arns.parse_map_run_arn(arn)
        return arn

    def stepmap_pause_map_run(self, request: Request) -> Response:
        """Pause a Map Run: nothing more is dispatched; running children finish."""
        arn = self._map_run_arn(request)
        return self._control(arn).pause_map_run(arn)

    def stepmap_resume_map_run(self, request: Request) -> Response:
        """Resume a paused Map Run where it was."""
        arn = self._map_run_arn(request)
        return self._control(arn).resume_map_run(arn)

    def stepmap_describe_admission(self, request: Request) -> Response:
        """The open-Map-Run limit, the open count and the backlog size."""
        return self._control("admission").describe_admission()

    def stepmap_update_admission(self, request: Request) -> Response:
        """Set the open-Map-Run limit live (``openMapRunLimit``) or go back to the setting
        (``useSettingsLimit: true``); exactly one of the two."""
        limit = params.int_in_range(request, "openMapRunLimit", 0)
        reset = request.get("useSettingsLimit")
        if reset is not None and not isinstance(reset, bool):
            raise ValidationException(
                f"useSettingsLimit must be a boolean, not {type(reset).__name__}")
        if (limit is None) == (reset is not True):
            raise ValidationException(
                "Give exactly one of openMapRunLimit (an integer, 0: no limit) and "
                "useSettingsLimit: true")
        return self._control("admission").update_admission(limit)


__all__ = ["MapRunControl", "MapRunControlMixin"]

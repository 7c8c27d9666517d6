"""The service's stepmap extensions for rate limits and named pools (docs/limits.md).

The work is done by ``orchestrator.maprun.limits_api.LimitsApi`` (given to the service as
``limits``); this mixin gives the service one method per operation, as the other mixins do, so
both faces call the same methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from orchestrator.executions.binding import REQUEST_FIELD
from orchestrator.executions.errors import UnknownOperation
from orchestrator.jsontext import dumps

Request = Mapping[str, Any]
Response = dict[str, Any]


class LimitsApi(Protocol):
    """Pools and Map Run rates (implemented in ``orchestrator.maprun.limits_api``)."""

    def create_pool(self, request: Request) -> Response: ...
    def describe_pool(self, request: Request) -> Response: ...
    def list_pools(self, request: Request) -> Response: ...
    def update_pool(self, request: Request) -> Response: ...
    def delete_pool(self, request: Request) -> Response: ...
    def update_map_run_rate(self, request: Request) -> Response: ...
    def check_binding(self, value: object) -> Response: ...


class LimitsMixin:
    """StepmapCreatePool ... StepmapUpdateMapRunRate on the service."""

    limits: LimitsApi | None

    def _limits(self) -> LimitsApi:
        if self.limits is None:
            raise UnknownOperation("Pools and rate limits are not available on this server")
        return self.limits

    def stepmap_binding(self, request: Request) -> str | None:
        """The checked ``stepmapBinding`` of a StartExecution request as stored JSON text."""
        value = request.get(REQUEST_FIELD)
        if value is None:
            return None
        return dumps(self._limits().check_binding(value))

    def stepmap_create_pool(self, request: Request) -> Response:
        """StepmapCreatePool."""
        return self._limits().create_pool(request)

    def stepmap_describe_pool(self, request: Request) -> Response:
        """StepmapDescribePool."""
        return self._limits().describe_pool(request)

    def stepmap_list_pools(self, request: Request) -> Response:
        """StepmapListPools."""
        return self._limits().list_pools(request)

    def stepmap_update_pool(self, request: Request) -> Response:
        """StepmapUpdatePool."""
        return self._limits().update_pool(request)

    def stepmap_delete_pool(self, request: Request) -> Response:
        """StepmapDeletePool."""
        return self._limits().delete_pool(request)

    def stepmap_update_map_run_rate(self, request: Request) -> Response:
        """StepmapUpdateMapRunRate."""
        return self._limits().update_map_run_rate(request)

"""The stepmap extensions for rate limits and named pools, in the service's request shapes.

Operations (AWS JSON face: ``X-Amz-Target: AWSStepFunctions.<name>``; ``/v1`` routes in
``orchestrator/api/rest_limits.py``): ``StepmapCreatePool``, ``StepmapDescribePool``,
``StepmapListPools``, ``StepmapUpdatePool``, ``StepmapDeletePool`` and
``StepmapUpdateMapRunRate``. No AWS SDK knows them; their names say so (docs/limits.md).

Requests are AWS-shaped dicts (camelCase); every bad value is a ValidationException naming
the field. A change that may free permits (a larger pool, a higher or removed rate) sends a
dispatch for the Map Runs it concerns, so it applies at once rather than at the next report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.executions.binding import (
    BindingError,
    check_pool_names,
    check_rate,
    checked_request,
)
from orchestrator.executions.errors import InvalidArn, ResourceNotFound, ValidationException
from orchestrator.executions.lifecycle_errors import ConflictException
from orchestrator.settings import Settings
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_base import MapRunStore
from orchestrator.store.maprun_record import MapRun
from orchestrator.store.pools import Pool, PoolExists, PoolInUse, PoolNotFound, PoolStore

Request = Mapping[str, Any]

#: Largest pool concurrency (as MaxConcurrency's ceiling would allow for one Map Run).
MAX_POOL_CONCURRENCY = 1_000_000


def _name(request: Request) -> str:
    name = request.get("name")
    if name is None:
        raise ValidationException("name is required: the pool's name")
    try:
        return check_pool_names([name], "name")[0]
    except BindingError as exc:
        raise ValidationException(str(exc)) from None


def _concurrency(request: Request, required: bool) -> int | None:
    value = request.get("maxConcurrency")
    if value is None:
        if required:
            raise ValidationException("maxConcurrency is required: the pool's concurrency limit")
        return None
    if type(value) is not int or not 1 <= value <= MAX_POOL_CONCURRENCY:
        raise ValidationException(f"maxConcurrency must be an integer from 1 to "
                                  f"{MAX_POOL_CONCURRENCY}, not {str(value)[:40]!r}")
    return value


def _rate(request: Request, field: str) -> float | None:
    """A rate field: None when absent, 0.0 to remove the limit, else the rate."""
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationException(f"{field} must be a number (0 removes the limit), "
                                  f"not {str(value)[:40]!r}")
    try:
        rate = check_rate(value, field)
    except BindingError as exc:
        raise ValidationException(str(exc)) from None
    return rate if rate is not None else 0.0


def pool_view(pool: Pool) -> dict[str, Any]:
    """A pool in the API's shape."""
    out: dict[str, Any] = {"name": pool.name, "maxConcurrency": pool.max_concurrency}
    if pool.items_per_second is not None:
        out["itemsPerSecond"] = pool.items_per_second
    out.update(creationDate=pool.creation_date, updateDate=pool.update_date)
    return out


def map_run_limits(run: MapRun) -> dict[str, Any]:
    """The rate and pool members of DescribeMapRun's ``stepmap`` member (absent when unset)."""
    out: dict[str, Any] = {}
    if run.items_per_second is not None:
        out["itemsPerSecond"] = run.items_per_second
    if run.children_per_second is not None:
        out["childrenPerSecond"] = run.children_per_second
    if run.pools:
        out["pools"] = list(run.pools)
    return out


class LimitsApi:
    """Pools and Map Run rates for the service layer.

    Args:
        pools: the pool store.
        map_runs: the Map Run store (rates live on the Map Run record).
        settings: the process settings (the control queue).
        dispatch: asks the control plane to dispatch a Map Run (after a change that may free
            permits); ``None`` in tests.
        clock: epoch seconds.
    """

    def __init__(self, pools: PoolStore, map_runs: MapRunStore, settings: Settings,
                 dispatch: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.pools = pools
        self.map_runs = map_runs
        self.settings = settings
        self.dispatch = dispatch
        self.clock = clock

    def _dispatch(self, arns: list[str]) -> None:
        if self.dispatch is not None:
            for arn in arns:
                self.dispatch(arn)

    def _pool(self, name: str) -> Pool:
        pool = self.pools.get(name)
        if pool is None:
            raise ResourceNotFound(f"Pool Does Not Exist: '{name}'")
        return pool

    # -- pools -----------------------------------------------------------------------------
    def create_pool(self, request: Request) -> dict[str, Any]:
        """StepmapCreatePool: ``name``, ``maxConcurrency``, optional ``itemsPerSecond``."""
        name = _name(request)
        limit = _concurrency(request, required=True)
        assert limit is not None
        rate = _rate(request, "itemsPerSecond") or None
        now = self.clock()
        pool = Pool(name=name, max_concurrency=limit, items_per_second=rate,
                    creation_date=now, update_date=now)
        try:
            self.pools.create(pool)
        except PoolExists:
            raise ConflictException(f"Pool already exists: '{name}'") from None
        return pool_view(pool)

    def describe_pool(self, request: Request) -> dict[str, Any]:
        """StepmapDescribePool: the pool, the permits its Map Runs hold, and those runs."""
        pool = self._pool(_name(request))
        usage = self.pools.usage(pool.name)
        return {**pool_view(pool), "running": usage.running, "mapRunArns": usage.runs}

    def list_pools(self, request: Request) -> dict[str, Any]:
        """StepmapListPools: every pool with its permits in use."""
        del request
        return {"pools": [{**pool_view(p), "running": self.pools.usage(p.name).running}
                          for p in self.pools.list_pools()]}

    def update_pool(self, request: Request) -> dict[str, Any]:
        """StepmapUpdatePool: a new ``maxConcurrency`` and/or ``itemsPerSecond`` (0 removes it)."""
        name = _name(request)
        limit = _concurrency(request, required=False)
        rate = _rate(request, "itemsPerSecond")
        if limit is None and rate is None:
            raise ValidationException("give maxConcurrency and/or itemsPerSecond to change")
        try:
            pool = self.pools.update(name, max_concurrency=limit,
                                     items_per_second=rate or None, clear_rate=rate == 0.0,
                                     now=self.clock())
        except PoolNotFound:
            raise ResourceNotFound(f"Pool Does Not Exist: '{name}'") from None
        self._dispatch(self.pools.usage(name).runs)
        return pool_view(pool)

    def delete_pool(self, request: Request) -> dict[str, Any]:
        """StepmapDeletePool: refused (ConflictException) while open Map Runs draw from it."""
        name = _name(request)
        try:
            self.pools.delete(name)
        except PoolNotFound:
            raise ResourceNotFound(f"Pool Does Not Exist: '{name}'") from None
        except PoolInUse as exc:
            shown = ", ".join(exc.runs[:5]) + (" ..." if len(exc.runs) > 5 else "")
            raise ConflictException(
                f"Pool '{name}' is in use by {len(exc.runs)} open Map Run(s): {shown}; it can "
                "be removed once they end (or change its limits instead)") from None
        return {}

    def check_binding(self, value: object) -> dict[str, Any]:
        """An explicit binding of StartExecution (``stepmapBinding``), checked; its pools exist.

        Raises:
            ValidationException: a member cannot be used.
            ResourceNotFound: a pool it names does not exist.
        """
        try:
            checked = checked_request(value)
        except BindingError as exc:
            raise ValidationException(str(exc)) from None
        for name in checked.get("pools", []):
            self._pool(name)
        return checked

    # -- Map Run rates ---------------------------------------------------------------------
    def update_map_run_rate(self, request: Request) -> dict[str, Any]:
        """StepmapUpdateMapRunRate: ``itemsPerSecond`` / ``childrenPerSecond`` of a running
        Map Run (an absent field keeps its value, 0 removes the limit)."""
        arn = request.get("mapRunArn")
        if not isinstance(arn, str) or ":mapRun:" not in arn:
            raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        run = self.map_runs.get(arn)
        if run is None:
            raise ResourceNotFound(f"Map Run Does Not Exist: '{arn}'")
        if run.status is not MapRunStatus.RUNNING:
            raise ValidationException("Cannot update a completed Map Run",
                                      reason="CANNOT_UPDATE_COMPLETED_MAP_RUN")
        items = _rate(request, "itemsPerSecond")
        children = _rate(request, "childrenPerSecond")
        if items is None and children is None:
            raise ValidationException("give itemsPerSecond and/or childrenPerSecond to change "
                                      "(0 removes a limit)")

        def merged(new: float | None, old: float | None) -> float | None:
            if new is None:
                return old
            return new if new > 0 and math.isfinite(new) else None

        self.map_runs.set_rates(arn, items_per_second=merged(items, run.items_per_second),
                                children_per_second=merged(children, run.children_per_second))
        self._dispatch([arn])
        return {}

"""Request and response models of the stepmap extensions for pools and rates (docs/limits.md).

Rates are numbers (0 removes a limit); pool names are 1-80 of ``A-Z a-z 0-9 _ . -``. Values are
checked by the service (``orchestrator.maprun.limits_api``) so both faces word errors alike.
"""

from __future__ import annotations

from pydantic import Field

from orchestrator.api.responses import _Response
from orchestrator.api.schemas import AwsModel

Rate = int | float


class CreatePoolInput(AwsModel):
    """StepmapCreatePool (AWS face) and POST /v1/pools."""

    name: str
    max_concurrency: int
    items_per_second: Rate | None = None


class PoolNameInput(AwsModel):
    """StepmapDescribePool, StepmapDeletePool."""

    name: str


class ListPoolsInput(AwsModel):
    """StepmapListPools (no members)."""


class UpdatePoolInput(AwsModel):
    """StepmapUpdatePool."""

    name: str
    max_concurrency: int | None = None
    items_per_second: Rate | None = None


class UpdatePoolBody(AwsModel):
    """PATCH /v1/pools/{name}."""

    max_concurrency: int | None = None
    items_per_second: Rate | None = None


class UpdateMapRunRateInput(AwsModel):
    """StepmapUpdateMapRunRate."""

    map_run_arn: str
    items_per_second: Rate | None = None
    children_per_second: Rate | None = None


class UpdateMapRunRateBody(AwsModel):
    """PATCH /v1/map-runs/{arn}/rate."""

    items_per_second: Rate | None = None
    children_per_second: Rate | None = None


class PoolOutput(_Response):
    """A pool (StepmapCreatePool, StepmapUpdatePool)."""

    name: str
    max_concurrency: int
    items_per_second: float | None = Field(None, description="Absent: no rate limit.")
    creation_date: str
    update_date: str


class PoolListItem(PoolOutput):
    """One pool of StepmapListPools."""

    running: int = Field(description="Permits its open Map Runs hold now.")


class DescribePoolOutput(PoolListItem):
    """StepmapDescribePool."""

    map_run_arns: list[str] = Field(description="Open Map Runs bound to the pool.")


class ListPoolsOutput(_Response):
    """StepmapListPools."""

    pools: list[PoolListItem]

"""``/v1`` routes of the stepmap extensions: named pools and Map Run rates (docs/limits.md).

Included before :mod:`orchestrator.api.rest`, whose ``/map-runs/{arn:path}`` would otherwise
take ``/map-runs/{arn}/rate``. Each route calls the same service method as the AWS face's
``Stepmap*`` operation.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from orchestrator.api import limits_schemas as schemas
from orchestrator.api import responses
from orchestrator.api.auth import bearer_scheme, require_token
from orchestrator.api.rest import _ERRORS, _service, iso_dates

router = APIRouter(
    prefix="/v1",
    dependencies=[Depends(bearer_scheme), Depends(require_token)],
    responses=_ERRORS,
    tags=["pools and rates (stepmap extensions)"],
)


@router.post("/pools", summary="StepmapCreatePool",
             **responses.answers(schemas.PoolOutput))
def create_pool(request: Request, body: schemas.CreatePoolInput) -> Any:
    return iso_dates(_service(request).stepmap_create_pool(body.to_request()))


@router.get("/pools", summary="StepmapListPools", **responses.answers(schemas.ListPoolsOutput))
def list_pools(request: Request) -> Any:
    return iso_dates(_service(request).stepmap_list_pools({}))


@router.get("/pools/{name}", summary="StepmapDescribePool",
            **responses.answers(schemas.DescribePoolOutput))
def describe_pool(request: Request, name: str) -> Any:
    return iso_dates(_service(request).stepmap_describe_pool({"name": name}))


@router.patch("/pools/{name}", summary="StepmapUpdatePool",
              **responses.answers(schemas.PoolOutput))
def update_pool(request: Request, name: str, body: schemas.UpdatePoolBody) -> Any:
    return iso_dates(_service(request).stepmap_update_pool({"name": name, **body.to_request()}))


@router.delete("/pools/{name}", summary="StepmapDeletePool",
               **responses.answers(responses.Empty))
def delete_pool(request: Request, name: str) -> Any:
    return _service(request).stepmap_delete_pool({"name": name})


@router.patch("/map-runs/{arn:path}/rate", summary="StepmapUpdateMapRunRate",
              **responses.answers(responses.Empty))
def update_map_run_rate(request: Request, arn: str,
                        body: schemas.UpdateMapRunRateBody) -> Any:
    return _service(request).stepmap_update_map_run_rate({"mapRunArn": arn,
                                                          **body.to_request()})

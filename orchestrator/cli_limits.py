"""``stepmap pools ...`` and ``stepmap map-run-rate``: the stepmap extensions from a shell.

They call the ``/v1`` routes of a running API (``--endpoint``; ``--token-file`` when its
authentication is on) with the standard library's HTTP client, print the answer as JSON, and
exit 1 with the API's error message when it refuses (docs/limits.md).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

pools_app = typer.Typer(
    name="pools", no_args_is_help=True, add_completion=False,
    help="Named pools shared by Map Runs (a stepmap extension): create, list, describe, "
         "update, delete. Bind a state machine with its stepmap:pools tag.",
)

Endpoint = Annotated[str, typer.Option(help="Base URL of the stepmap API.")]
TokenFile = Annotated[
    Path | None,
    typer.Option(help="File holding a bearer token (when the API's authentication is on).",
                 exists=True, dir_okay=False),
]
PoolName = Annotated[str, typer.Argument(help="The pool's name (1-80 of A-Z a-z 0-9 _ . -).")]
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"


def call(endpoint: str, method: str, path: str, body: dict[str, Any] | None = None,
         token_file: Path | None = None) -> Any:
    """One ``/v1`` request; the decoded answer, or exit 1 with the API's message."""
    headers = {"Content-Type": "application/json"}
    if token_file is not None:
        headers["Authorization"] = "Bearer " + token_file.read_text().strip()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(endpoint.rstrip("/") + "/v1" + path, data=data,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - an URL we build
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())
            text = f"{error.get('error')}: {error.get('message')}"
        except ValueError:
            text = f"HTTP {exc.code}"
        typer.echo(f"error: {text}", err=True)
        raise typer.Exit(1) from None
    except urllib.error.URLError as exc:
        typer.echo(f"error: cannot reach {endpoint}: {exc.reason}", err=True)
        raise typer.Exit(1) from None


def _present(**fields: Any) -> dict[str, Any]:
    """The request members that were given (an absent option leaves a value as it is)."""
    return {name: value for name, value in fields.items() if value is not None}


def _show(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def _pool_path(name: str) -> str:
    return "/pools/" + urllib.parse.quote(name, safe="")


@pools_app.command("create")
def create(name: PoolName,
           max_concurrency: Annotated[int, typer.Option(min=1, help="Permits the pool's Map Runs "
                                                        "share (running children).")],
           items_per_second: Annotated[float | None, typer.Option(
               min=0, help="Items/s the pool's Map Runs share (none if omitted).")] = None,
           endpoint: Endpoint = DEFAULT_ENDPOINT, token_file: TokenFile = None) -> None:
    """Create a pool."""
    body = _present(name=name, maxConcurrency=max_concurrency, itemsPerSecond=items_per_second)
    _show(call(endpoint, "POST", "/pools", body, token_file))


@pools_app.command("list")
def list_pools(endpoint: Endpoint = DEFAULT_ENDPOINT, token_file: TokenFile = None) -> None:
    """List the pools with the permits in use."""
    _show(call(endpoint, "GET", "/pools", None, token_file))


@pools_app.command("describe")
def describe(name: PoolName, endpoint: Endpoint = DEFAULT_ENDPOINT,
             token_file: TokenFile = None) -> None:
    """A pool, its permits in use and the open Map Runs bound to it."""
    _show(call(endpoint, "GET", _pool_path(name), None, token_file))


@pools_app.command("update")
def update(name: PoolName,
           max_concurrency: Annotated[int | None, typer.Option(
               min=1, help="New number of permits the pool's Map Runs share.")] = None,
           items_per_second: Annotated[float | None, typer.Option(
               min=0, help="New items/s; 0 removes the rate.")] = None,
           endpoint: Endpoint = DEFAULT_ENDPOINT, token_file: TokenFile = None) -> None:
    """Change a pool's limits (applies to the next grant of every Map Run in it)."""
    body = _present(maxConcurrency=max_concurrency, itemsPerSecond=items_per_second)
    _show(call(endpoint, "PATCH", _pool_path(name), body, token_file))


@pools_app.command("delete")
def delete(name: PoolName, endpoint: Endpoint = DEFAULT_ENDPOINT,
           token_file: TokenFile = None) -> None:
    """Remove a pool (refused while open Map Runs draw from it)."""
    _show(call(endpoint, "DELETE", _pool_path(name), None, token_file))


def map_run_rate(
        map_run_arn: Annotated[str, typer.Argument(help="The running Map Run's ARN.")],
        items_per_second: Annotated[float | None, typer.Option(
            min=0, help="Items/s of the Map Run; 0 removes the limit.")] = None,
        children_per_second: Annotated[float | None, typer.Option(
            min=0, help="Child executions/s; 0 removes the limit.")] = None,
        endpoint: Endpoint = DEFAULT_ENDPOINT, token_file: TokenFile = None) -> None:
    """Change a running Map Run's rate limits (a stepmap extension)."""
    body = _present(itemsPerSecond=items_per_second, childrenPerSecond=children_per_second)
    path = "/map-runs/" + urllib.parse.quote(map_run_arn, safe="") + "/rate"
    _show(call(endpoint, "PATCH", path, body, token_file))

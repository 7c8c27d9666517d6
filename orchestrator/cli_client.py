"""``stepmap map-run`` and ``stepmap admission``: the stepmap extensions from a shell.

Client commands: they call a running API's ``/v1`` routes (docs/extensions.md) over HTTP with a
bearer token (``--token``, else the first of STEPMAP_API__TOKENS) and print its JSON answer.
An error answer is printed on stderr with the API's code and ends the command with status 1.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Annotated, Any

import typer

from orchestrator.settings_loader import ConfigError, load_settings

Endpoint = Annotated[str, typer.Option(help="Base URL of the stepmap API.")]
Token = Annotated[str | None, typer.Option(
    help="Bearer token (default: the first of STEPMAP_API__TOKENS; none with auth off).")]
MapRunArn = Annotated[str, typer.Argument(help="The Map Run ARN (DescribeMapRun's mapRunArn).")]
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
#: Seconds a client command waits for the API.
TIMEOUT = 30.0

map_run_app = typer.Typer(help="Pause and resume Map Runs (stepmap extensions).",
                          no_args_is_help=True)
admission_app = typer.Typer(help="The open-Map-Run limit and backlog (stepmap extension).",
                            no_args_is_help=True)


def _token(token: str | None) -> str | None:
    if token is not None:
        return token
    try:
        tokens = load_settings().api.tokens
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return tokens[0].get_secret_value() if tokens else None


def call(endpoint: str, method: str, path: str, token: str | None,
         body: dict[str, Any] | None = None) -> Any:
    """One ``/v1`` call; prints the error and exits 1 on an error answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    bearer = _token(token)
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 - the API
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        typer.echo(f"error: HTTP {exc.code}: {exc.read().decode(errors='replace')}", err=True)
        raise typer.Exit(1) from None
    except urllib.error.URLError as exc:
        typer.echo(f"error: cannot reach {endpoint}: {exc.reason}", err=True)
        raise typer.Exit(1) from None


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def _map_run_path(arn: str, verb: str) -> str:
    return f"/v1/map-runs/{urllib.parse.quote(arn, safe=':/')}:{verb}"


@map_run_app.command()
def pause(arn: MapRunArn, endpoint: Endpoint = DEFAULT_ENDPOINT, token: Token = None) -> None:
    """Pause a Map Run: nothing more is dispatched; running children finish."""
    _print(call(endpoint, "POST", _map_run_path(arn, "pause"), token))


@map_run_app.command()
def resume(arn: MapRunArn, endpoint: Endpoint = DEFAULT_ENDPOINT, token: Token = None) -> None:
    """Resume a paused Map Run where it was."""
    _print(call(endpoint, "POST", _map_run_path(arn, "resume"), token))


@admission_app.command()
def show(endpoint: Endpoint = DEFAULT_ENDPOINT, token: Token = None) -> None:
    """Show the open-Map-Run limit, the open count and the backlog."""
    _print(call(endpoint, "GET", "/v1/admission", token))


@admission_app.command("set")
def set_limit(
    limit: Annotated[int, typer.Argument(min=0, help="Map Runs open at once (0: no limit).")],
    endpoint: Endpoint = DEFAULT_ENDPOINT, token: Token = None,
) -> None:
    """Set the open-Map-Run limit live (kept in Redis until reset)."""
    _print(call(endpoint, "PUT", "/v1/admission", token, {"openMapRunLimit": limit}))


@admission_app.command()
def reset(endpoint: Endpoint = DEFAULT_ENDPOINT, token: Token = None) -> None:
    """Go back to the STEPMAP_LIMITS__OPEN_MAP_RUNS setting."""
    _print(call(endpoint, "PUT", "/v1/admission", token, {"useSettingsLimit": True}))

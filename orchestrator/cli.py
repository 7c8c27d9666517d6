"""The ``stepmap`` command: a local stack for development, and each process of a deployment.

``stepmap dev`` runs everything on loopback; ``stepmap api``, ``stepmap worker control``,
``stepmap worker children`` and ``stepmap flower`` are the commands of the container image
(compose.yaml, deploy/). Settings come from ``STEPMAP_*`` environment variables (see
:mod:`orchestrator.settings`); options here only choose what runs and where it listens.
"""

from __future__ import annotations

import enum
import importlib
import ipaddress
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.cli_client import admission_app, map_run_app
from orchestrator.cli_limits import map_run_rate, pools_app
from orchestrator.devstack import commands
from orchestrator.settings import Settings
from orchestrator.settings_loader import ConfigError, load_settings

app = typer.Typer(
    name="stepmap",
    help=(
        "stepmap: AWS Step Functions state machines with Distributed Map, on Celery and Redis. "
        "Settings come from STEPMAP_* environment variables, '__' between nested names "
        "(STEPMAP_REDIS__URL, STEPMAP_S3__ENDPOINT_URL, STEPMAP_API__TOKENS)."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Plain tracebacks: they end up in log files, and locals may hold secrets.
    pretty_exceptions_enable=False,
)

ADVANCED = "Advanced"

app.add_typer(map_run_app, name="map-run")
app.add_typer(admission_app, name="admission")
app.add_typer(pools_app)
app.command("map-run-rate")(map_run_rate)


class WorkerChoice(str, enum.Enum):
    """The two kinds of Celery worker."""

    control = "control"
    children = "children"


class LogFormatChoice(str, enum.Enum):
    """How the API and the workers write their log lines."""

    text = "text"
    json = "json"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _settings() -> Settings:
    """The settings from STEPMAP_* variables; a configuration mistake ends the command (exit 2)."""
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


Port = Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")]


def _import_object(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr or "app")


def _exec(argv: list[str], dry_run: bool) -> None:
    if dry_run:
        typer.echo(shlex.join(argv))
        return
    sys.stdout.flush()
    sys.stderr.flush()
    # exec, not a child process: signals (docker stop, Ctrl-C) reach Celery directly.
    os.execv(argv[0], argv)  # noqa: S606 - argv built from our own constants


def _credentials(settings: Settings) -> bool:
    """Whether any client could authenticate (bearer tokens or access keys)."""
    return bool(settings.api.tokens) or bool(settings.api.access_keys)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
    port: Port = 8080,
    log_level: Annotated[str, typer.Option(help="Uvicorn log level (debug, info, warning, ...).")] = "info",
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(help="Log lines as text or JSON, with execution/Map Run ARN and request id "
                     "(default: STEPMAP_LOG_FORMAT, else text)."),
    ] = None,
    factory: Annotated[
        str,
        typer.Option(help="Import path module:function of the app factory.", rich_help_panel=ADVANCED),
    ] = commands.API_FACTORY,
) -> None:
    """Serve the REST API (uvicorn) with settings from STEPMAP_* variables."""
    import uvicorn

    from orchestrator.logging_context import dict_config

    settings = _settings()
    if settings.api.auth_enabled and not _credentials(settings):
        raise _fail(
            "authentication is on (STEPMAP_API__AUTH_ENABLED) but no credentials are set, so "
            "every request would be refused: set STEPMAP_API__TOKENS (or STEPMAP_API__TOKENS_FILE) "
            "or STEPMAP_API__ACCESS_KEYS, or turn authentication off"
        )
    if not _is_loopback(host) and not settings.api.auth_enabled:
        typer.echo(f"warning: serving on {host} with authentication disabled", err=True)
    uvicorn.run(_import_object(factory)(settings), host=host, port=port, log_level=log_level.lower(),
                log_config=dict_config(log_format.value if log_format else settings.log_format,
                                       log_level))


@app.command()
def worker(
    kind: Annotated[
        WorkerChoice, typer.Argument(help="control: parent executions and Map Runs; children: child workflows.")
    ],
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Pool size (default: control 1 (STEPMAP_CELERY__CONTROL_CONCURRENCY), children the CPU count).")
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l", help="Celery log level.")] = "INFO",
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Node name before '@hostname' (default: the kind).")
    ] = None,
    pool: Annotated[
        str | None, typer.Option(help="Celery pool: prefork (default), threads, solo.", rich_help_panel=ADVANCED)
    ] = None,
    celery_app: Annotated[
        str | None,
        typer.Option("--app", help="Celery app import path (default: the kind's).", rich_help_panel=ADVANCED),
    ] = None,
    events: Annotated[
        bool,
        typer.Option("--events/--no-events", help="Send task events (Flower's task views need them)."),
    ] = True,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(help="Log lines as text or JSON, with execution/Map Run ARN, child and "
                     "Celery task id (sets STEPMAP_LOG_FORMAT for the worker; default: "
                     "STEPMAP_LOG_FORMAT, else text)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the worker command instead of running it.")] = False,
) -> None:
    """Run a Celery worker consuming the control or the children queue."""
    settings = _settings()
    args = commands.celery_worker_args(
        kind.value, settings, app=celery_app, name=name, concurrency=concurrency,
        loglevel=loglevel, pool=pool, events=events,
    )
    argv = commands.python_worker(args)
    if log_format is not None:
        # The worker reads its settings again after the exec: the format travels with them.
        if dry_run:
            argv = ["env", f"STEPMAP_LOG_FORMAT={log_format.value}", *argv]
        else:
            os.environ["STEPMAP_LOG_FORMAT"] = log_format.value
    _exec(argv, dry_run)


@app.command()
def flower(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
    port: Port = 5555,
    basic_auth_file: Annotated[
        Path | None,
        typer.Option(envvar="FLOWER_BASIC_AUTH_FILE",
                     help="File holding user:password (or set FLOWER_BASIC_AUTH); required off loopback."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the celery command instead of running it.")] = False,
) -> None:
    """Run Flower, the Celery monitor, on the children app's broker.

    The password is read from FLOWER_BASIC_AUTH or a file and handed to Flower in its
    environment, never on a command line (where every local user can read it).
    """
    basic_auth = os.environ.get("FLOWER_BASIC_AUTH") or None
    if basic_auth_file is not None:
        try:
            basic_auth = basic_auth_file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise _fail(f"cannot read the Flower basic auth file {str(basic_auth_file)!r}: {exc.strerror}") from None
    if not _is_loopback(host) and not basic_auth:
        raise _fail(f"refusing to serve Flower on {host} without FLOWER_BASIC_AUTH or --basic-auth-file")
    if not dry_run:
        os.environ.update(commands.flower_env(basic_auth))
    _exec(commands.python_celery(commands.flower_args(host=host, port=port)), dry_run)


@app.command()
def dev(
    workers: Annotated[int, typer.Option("--workers", "-w", min=0, help="Children worker processes.")] = 2,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Pool size of each children worker.")
    ] = 4,
    control_concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Pool size of the control worker (default: STEPMAP_CELERY__CONTROL_CONCURRENCY, 1)."),
    ] = None,
    with_flower: Annotated[bool, typer.Option("--flower/--no-flower", help="Start Flower.")] = True,
    with_api: Annotated[bool, typer.Option("--api/--no-api", help="Start the API.")] = True,
    with_control: Annotated[bool, typer.Option("--control/--no-control", help="Start the control worker.")] = True,
    api_port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the API.")] = 8080,
    flower_port: Annotated[int, typer.Option(min=1, max=65535, help="Port of Flower.")] = 5555,
    redis_port: Annotated[int, typer.Option(min=0, max=65535, help="Port of Redis (0: a free port).")] = 0,
    s3_port: Annotated[int, typer.Option(min=0, max=65535, help="Port of the S3 server (0: a free port).")] = 0,
    free_ports: Annotated[bool, typer.Option("--free-ports", help="Pick free ports for every component.")] = False,
    bucket: Annotated[str, typer.Option(help="S3 bucket created at start.")] = "stepmap",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", "--log-dir",
            help="Keep logs and Redis data (append-only file) here, across restarts "
            "(default: a temporary folder, removed at exit).",
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l", help="Log level of the API and workers.")] = "INFO",
    startup_timeout: Annotated[float, typer.Option(help="Seconds to wait for every component.")] = 90.0,
    api_factory: Annotated[
        str, typer.Option(help="App factory of the API.", rich_help_panel=ADVANCED)
    ] = commands.API_FACTORY,
    control_app: Annotated[
        str, typer.Option(help="Celery app of the control worker.", rich_help_panel=ADVANCED)
    ] = commands.CONTROL_APP,
    children_app: Annotated[
        str, typer.Option(help="Celery app of the children workers and Flower.", rich_help_panel=ADVANCED)
    ] = commands.CHILDREN_APP,
) -> None:
    """Run Redis, S3, the API, the workers and Flower on 127.0.0.1 until Ctrl-C."""
    from orchestrator.devstack.process import StackError
    from orchestrator.devstack.stack import LocalStack

    console = Console()
    settings = _settings()
    ports = {} if free_ports else {"api": api_port, "flower": flower_port}
    ports.update({k: v for k, v in (("redis", redis_port), ("s3", s3_port)) if v and not free_ports})
    stack = LocalStack(
        base_settings=settings, workers=workers, concurrency=concurrency,
        control_concurrency=control_concurrency, api=with_api, control=with_control,
        flower=with_flower, bucket=bucket, ports=ports, workdir=data_dir, loglevel=loglevel,
        startup_timeout=startup_timeout,
        apps={"api": api_factory, "control": control_app, "children": children_app},
    )
    _on_signals_raise_interrupt()
    code = 0
    try:
        with console.status("Starting the local stack..."):
            stack.start()
        console.print(_stack_table(stack))
        console.print("[bold green]stepmap dev is ready.[/] Press Ctrl-C to stop.")
        sys.stdout.flush()
        while not (dead := stack.dead()):
            time.sleep(0.5)
        for proc in dead:
            console.print(str(proc.failure("stopped unexpectedly")), style="bold red", markup=False)
        code = 1
    except StackError as exc:
        console.print(f"error: {exc}", style="bold red", markup=False)
        code = 1
    except KeyboardInterrupt:
        console.print("Stopping...")
    finally:
        # A second Ctrl-C must not cut the shutdown short and leak processes.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
    console.print("Stopped." if code == 0 else "Stopped after an error.")
    raise typer.Exit(code)


def _on_signals_raise_interrupt() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def _stack_table(stack: Any) -> Table:
    table = Table(title="stepmap dev (127.0.0.1 only)")
    table.add_column("component")
    table.add_column("address")
    table.add_column("notes")
    settings = stack.settings
    notes = {
        "api": "REST + AWS JSON 1.0; authentication off",
        "flower": "Celery monitor",
        "redis": "store and broker",
        "s3": f"bucket {stack.bucket}; any access key",
    }
    for name in ("api", "flower", "redis", "s3"):
        if name in stack.urls:
            table.add_row(name, stack.urls[name], notes[name])
    if "api" in stack.urls:
        table.add_row("console", f"{stack.urls['api']}/console/", "Map Runs live; /docs, /metrics")
    for name in stack.worker_names():
        proc = stack.processes[name]
        queue = commands.worker_queue(proc.kind, settings)
        table.add_row(name, f"pid {proc.pid}", f"queue {queue}, concurrency {proc.concurrency}")
    table.add_row("logs", str(stack.workdir), "one file per component")
    return table


@app.command()
def demo(
    rows: Annotated[int, typer.Option(min=1, help="Rows of the generated CSV (one child each).")] = 100_000,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Children worker processes.")] = 2,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the stack and its results up after the run, until Ctrl-C.")
    ] = False,
) -> None:
    """Run the Distributed Map demo on an embedded local stack, then show what to do next."""
    from orchestrator.devstack.process import StackError

    try:
        from orchestrator.demo import run_demo
    except ImportError as exc:
        typer.echo(f"error: the demo is not available: {exc}", err=True)
        raise typer.Exit(1) from exc
    console = Console()
    try:
        code = run_demo(_settings(), console, rows=rows, workers=workers, keep=keep)
    except StackError as exc:
        console.print(f"error: {exc}", style="bold red", markup=False)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        console.print("Interrupted; the local stack was stopped.")
        raise typer.Exit(130) from None
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print stepmap's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        typer.echo(f"stepmap {dist_version('stepmap')}")
    except PackageNotFoundError:
        typer.echo("stepmap (not installed)")


if __name__ == "__main__":
    app()

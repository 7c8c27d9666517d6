"""The ``stepmap`` command line: every command's help, and the commands workers are run with."""

from __future__ import annotations

import inspect
import shlex
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.devstack import commands
from orchestrator.settings import Settings

runner = CliRunner()
# A wide terminal, so that rich's help panels never shorten an option name.
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}
COMMANDS = ["api", "worker", "flower", "dev", "demo", "version", "map-run", "admission", "pools",
            "map-run-rate"]


def _click_group() -> Any:
    """The click group typer builds (typer vendors click, so no isinstance checks)."""
    return typer.main.get_command(app)


def test_stepmap_lists_every_command_with_its_help() -> None:
    result = runner.invoke(app, ["--help"], env=WIDE)
    assert result.exit_code == 0
    group = _click_group()
    assert sorted(group.commands) == sorted(COMMANDS)
    for name, command in group.commands.items():
        assert name in result.output
        assert command.help, f"{name} has no help text"
        assert command.help.splitlines()[0] in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_mentions_every_option_and_argument(name: str) -> None:
    result = runner.invoke(app, [name, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    command = _click_group().commands[name]
    for param in command.params:
        if param.name == "help":
            continue
        assert getattr(param, "help", None), f"{name}: {param.name} has no help text"
        if param.param_type_name == "option":
            for opt in [*param.opts, *param.secondary_opts]:
                assert opt in result.output, f"{name} --help does not mention {opt}"
        else:
            assert param.name is not None and param.name in result.output


def test_worker_children_runs_celery_on_the_children_queue_one_message_at_a_time() -> None:
    result = runner.invoke(app, ["worker", "children", "--concurrency", "3", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert shlex.split(result.output) == [
        sys.executable, "-m", "orchestrator.celery_worker", "-A", "workers.celery_app:app", "worker",
        "-Q", "stepmap.children", "-n", "children@%h", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--task-events", "-c", "3",
        "--prefetch-multiplier", "1",
    ]


def test_worker_control_runs_celery_on_the_control_queue() -> None:
    result = runner.invoke(app, ["worker", "control", "-n", "ctl", "-l", "debug", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert shlex.split(result.output) == [
        sys.executable, "-m", "orchestrator.celery_worker", "-A", "orchestrator.control.app:app", "worker",
        "-Q", "stepmap.control", "-n", "ctl@%h", "--loglevel", "DEBUG",
        "--without-gossip", "--without-mingle", "--task-events", "-c", "1",
    ]


def test_worker_without_flower_sends_no_task_events() -> None:
    result = runner.invoke(app, ["worker", "children", "--no-events", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "--task-events" not in shlex.split(result.output)


def test_worker_rejects_an_unknown_kind() -> None:
    result = runner.invoke(app, ["worker", "parents", "--dry-run"])
    assert result.exit_code == 2


def test_flower_refuses_to_listen_off_loopback_without_basic_auth() -> None:
    result = runner.invoke(app, ["flower", "--host", "0.0.0.0", "--dry-run"], env={"FLOWER_BASIC_AUTH": ""})
    assert result.exit_code == 2
    assert "refusing to serve Flower on 0.0.0.0 without FLOWER_BASIC_AUTH" in result.output


def test_flower_takes_basic_auth_from_the_environment_and_keeps_it_off_the_command_line() -> None:
    result = runner.invoke(
        app, ["flower", "--host", "0.0.0.0", "--port", "5556", "--dry-run"],
        env={"FLOWER_BASIC_AUTH": "admin:secret"},
    )
    assert result.exit_code == 0, result.output
    assert shlex.split(result.output)[3:] == [
        "-A", "workers.celery_app:app", "flower", "--address=0.0.0.0", "--port=5556",
    ]
    assert "secret" not in result.output


def test_flower_reads_basic_auth_from_a_file(tmp_path: Any) -> None:
    secret = tmp_path / "flower-auth"
    secret.write_text("admin:from-file\n")
    result = runner.invoke(app, ["flower", "--host", "0.0.0.0", "--basic-auth-file", str(secret),
                                 "--dry-run"], env={"FLOWER_BASIC_AUTH": ""})
    assert result.exit_code == 0, result.output
    assert "from-file" not in result.output


def test_flower_reports_an_unreadable_basic_auth_file(tmp_path: Any) -> None:
    result = runner.invoke(app, ["flower", "--basic-auth-file", str(tmp_path / "missing"), "--dry-run"])
    assert result.exit_code == 2
    assert "cannot read the Flower basic auth file" in result.output


def test_api_refuses_to_start_with_authentication_on_and_no_tokens() -> None:
    result = runner.invoke(app, ["api"], env={"STEPMAP_API__AUTH_ENABLED": "true", "STEPMAP_API__TOKENS": "[]"})
    assert result.exit_code == 2
    assert "no credentials are set" in result.output
    assert "STEPMAP_API__TOKENS" in result.output


@pytest.mark.parametrize("argv", [["api", "--port", "99999"], ["dev", "--api-port", "70000"],
                                  ["flower", "--port", "0"], ["dev", "--redis-port", "-1"]])
def test_ports_out_of_range_are_refused_with_a_message(argv: list[str]) -> None:
    result = runner.invoke(app, argv, env=WIDE)
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    assert "OverflowError" not in result.output


def test_an_unknown_stepmap_variable_stops_a_command_with_the_nearest_valid_name() -> None:
    result = runner.invoke(app, ["worker", "control", "--dry-run"], env={"STEPMAP_REDIS_URL": "redis://x"})
    assert result.exit_code == 2
    assert "STEPMAP_REDIS_URL: not a stepmap setting; did you mean STEPMAP_REDIS__URL?" in result.output
    assert "Traceback" not in result.output


def test_a_malformed_setting_is_one_line_naming_the_variable_and_the_expected_form() -> None:
    result = runner.invoke(app, ["worker", "control", "--dry-run"], env={"STEPMAP_API__TOKENS": "t1"})
    assert result.exit_code == 2
    assert "STEPMAP_API__TOKENS: expected a JSON list" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 2


def test_demo_options_are_parameters_of_run_demo() -> None:
    from orchestrator.demo import run_demo

    parameters = inspect.signature(run_demo).parameters
    assert list(parameters)[:2] == ["settings", "console"]
    assert {"rows", "workers"} <= set(parameters)


def test_version_prints_the_program_name() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.startswith("stepmap ")


def test_settings_env_round_trips_through_pydantic_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        redis={"url": "redis://127.0.0.1:7000/3"},
        s3={"endpoint_url": "http://127.0.0.1:9000", "secret_access_key": "s3cret"},
        api={"auth_enabled": False, "tokens": ["t1", "t2"]},
        limits={"segment_size": 7},
        handler_modules=["x.y"],
    )
    env = commands.settings_env(settings)
    assert env["STEPMAP_REDIS__BROKER_URL"] is None
    assert env["STEPMAP_API__TOKENS"] == '["t1", "t2"]'
    assert env["STEPMAP_API__AUTH_ENABLED"] == "false"
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    assert Settings() == settings


def test_merge_settings_applies_nested_overrides_only() -> None:
    base = Settings(redis={"url": "redis://127.0.0.1:7000/0", "key_prefix": "p"})
    merged = commands.merge_settings(base, {"redis": {"url": "redis://127.0.0.1:7001/0"}})
    assert (merged.redis.url, merged.redis.key_prefix) == ("redis://127.0.0.1:7001/0", "p")
    assert base.redis.url == "redis://127.0.0.1:7000/0"

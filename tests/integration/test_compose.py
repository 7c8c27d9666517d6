"""compose.yaml and deploy/Dockerfile, checked statically (CI machines have no Docker engine).

Each check ties the deployment files to the code: commands are real ``stepmap`` commands with
real options, STEPMAP_* variables are real settings and parse, healthchecks exist and ping the
right Celery apps, and every file the Dockerfile copies exists.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.devstack import commands
from orchestrator.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
STEPMAP_SERVICES = ("api", "control", "children", "flower")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
#: What a user puts in .env for the variables compose requires (``${VAR:?message}``).
REQUIRED_VALUES = {
    "S3_ACCESS_KEY": "user-key",
    "S3_SECRET_KEY": "user-secret",
    "STEPMAP_API__TOKENS": '["user-token"]',
    "FLOWER_BASIC_AUTH": "admin:user-password",
}
runner = CliRunner()


def _load() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    return _load()["services"]


def _substitute(match: re.Match[str]) -> str:
    name, operator, text = match.group(1), match.group(2), match.group(3)
    if operator == "?":
        return REQUIRED_VALUES[name]
    return text or ""


def _interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with the defaults and ``${VAR:?}`` with a user's .env
    (ignoring this machine's environment)."""
    return INTERPOLATION.sub(_substitute, value).replace("$$", "$")


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: _interpolate(str(value)) for key, value in env.items()}


def _is_one_shot(name: str, services: dict[str, dict[str, Any]]) -> bool:
    return any(
        isinstance(other.get("depends_on"), dict)
        and other["depends_on"].get(name, {}).get("condition") == "service_completed_successfully"
        for other in services.values()
    )


def _field_exists(model: type[BaseModel], parts: list[str]) -> bool:
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    if len(parts) == 1:
        return True
    nested = field.annotation
    return isinstance(nested, type) and issubclass(nested, BaseModel) and _field_exists(nested, parts[1:])


def test_compose_defines_the_stack_services_with_an_image_or_build() -> None:
    services = _services()
    assert set(services) >= {"redis", "s3", *STEPMAP_SERVICES}
    for name, service in services.items():
        assert "image" in service or "build" in service, name


def test_stepmap_services_share_one_image_built_from_deploy_dockerfile() -> None:
    services = _services()
    images = {(services[n]["image"], repr(services[n]["build"])) for n in STEPMAP_SERVICES}
    assert len(images) == 1
    build = services["api"]["build"]
    context = (REPO / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).is_file()


@pytest.mark.parametrize("name", STEPMAP_SERVICES)
def test_service_command_is_a_real_stepmap_command(name: str) -> None:
    argv = _command(_services()[name])
    assert argv[0] == "stepmap"
    result = runner.invoke(app, [*argv[1:], "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("name", "queue"), [("control", "stepmap.control"), ("children", "stepmap.children")])
def test_worker_services_consume_their_queue(name: str, queue: str) -> None:
    service = _services()[name]
    result = runner.invoke(app, [*_command(service)[1:], "--dry-run"], env=_environment(service))
    assert result.exit_code == 0, result.output
    celery = shlex.split(result.output)
    assert celery[celery.index("-Q") + 1] == queue
    assert celery[celery.index("-A") + 1] == commands.worker_app(name)  # type: ignore[arg-type]


def test_flower_service_uses_basic_auth_from_the_environment() -> None:
    service = _services()["flower"]
    assert "FLOWER_BASIC_AUTH" in service["environment"]
    assert "${FLOWER_BASIC_AUTH" in str(service["environment"]["FLOWER_BASIC_AUTH"])
    result = runner.invoke(app, [*_command(service)[1:], "--dry-run"], env=_environment(service))
    assert result.exit_code == 0, result.output
    assert not any(arg.startswith("--basic-auth") for arg in shlex.split(result.output))


@pytest.mark.parametrize("name", STEPMAP_SERVICES)
def test_stepmap_variables_are_settings_fields(name: str) -> None:
    env = _environment(_services()[name])
    names = [key for key in env if key.startswith("STEPMAP_")]
    assert "STEPMAP_REDIS__URL" in names
    for key in names:
        parts = key.removeprefix("STEPMAP_").lower().split("__")
        assert _field_exists(Settings, parts), key


def test_stepmap_variables_parse_into_the_settings_compose_means(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("STEPMAP_"):
            monkeypatch.delenv(key)
    for key, value in _environment(_services()["api"]).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.redis.url == "redis://redis:6379/0"
    assert settings.s3.endpoint_url == "http://s3:5000"
    assert settings.api.auth_enabled is True
    assert [t.get_secret_value() for t in settings.api.tokens] == ["user-token"]
    assert settings.s3.secret_access_key.get_secret_value() == "user-secret"


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = _services()
    for name, service in services.items():
        if _is_one_shot(name, services):
            assert service.get("restart") == "no", name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


@pytest.mark.parametrize("name", ["control", "children"])
def test_worker_healthcheck_pings_its_own_node_with_its_app(name: str) -> None:
    test = _services()[name]["healthcheck"]["test"][1]
    argv = shlex.split(_interpolate(test))
    assert argv[:4] == ["celery", "-A", commands.worker_app(name), "inspect"]  # type: ignore[arg-type]
    assert argv[argv.index("-d") + 1] == f"{name}@$HOSTNAME"


def test_redis_keeps_an_append_only_file_on_a_volume() -> None:
    redis = _services()["redis"]
    argv = _command(redis)
    assert argv[argv.index("--appendonly") + 1] == "yes"
    assert redis["volumes"][0].split(":")[0] in _load()["volumes"]


def test_children_can_be_scaled() -> None:
    children = _services()["children"]
    assert "container_name" not in children
    assert "ports" not in children


def test_depends_on_targets_exist_and_health_conditions_have_healthchecks() -> None:
    services = _services()
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for target, spec in (depends.items() if isinstance(depends, dict) else ((d, {}) for d in depends)):
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec.get("condition", "service_started")
            assert condition in allowed, (name, target, condition)
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
    for name in STEPMAP_SERVICES:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_published_ports_bind_loopback_only() -> None:
    for name, service in _services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_dockerfile_copies_existing_files_and_runs_as_a_non_root_user() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    # Join continuation lines, then look at each instruction.
    instructions = [line.strip() for line in dockerfile.replace("\\\n", " ").splitlines()]
    copies = [i.split()[1:] for i in instructions if i.startswith("COPY ")]
    local = [args for args in copies if not any(a.startswith("--from") for a in args)]
    assert local, "the Dockerfile copies nothing from the build context"
    for args in local:
        for source in args[:-1]:
            assert (REPO / source).exists(), f"COPY source {source} does not exist"
    assert "pip install ." in dockerfile
    users = [i.split()[1] for i in instructions if i.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    cmd = next(i for i in reversed(instructions) if i.startswith("CMD "))
    assert cmd.startswith('CMD ["stepmap", "api"')


def test_secrets_have_no_defaults_compose_requires_them() -> None:
    text = COMPOSE.read_text()
    for name in REQUIRED_VALUES:
        uses = [m for m in INTERPOLATION.finditer(text) if m.group(1) == name]
        assert uses, name
        assert all(m.group(2) == "?" for m in uses), f"{name} has a default"
    assert "dev-secret" not in text and "dev-token" not in text
    example = (REPO / "deploy" / "compose.env.example").read_text()
    assert all(f"{name}=" in example for name in REQUIRED_VALUES)


def test_images_from_registries_are_pinned_and_s3_is_not_minio_from_docker_hub() -> None:
    for name, service in _services().items():
        image = str(service.get("image", ""))
        if "build" in service:
            continue
        assert ":" in image and not image.endswith(":latest"), (name, image)
        assert not image.startswith(("minio/", "docker.io/minio/")), (name, image)
    s3 = _services()["s3"]
    assert re.fullmatch(r"motoserver/moto:\d+\.\d+\.\d+", s3["image"])
    port = _environment(s3)["MOTO_PORT"]
    api_env = _environment(_services()["api"])
    assert api_env["STEPMAP_S3__ENDPOINT_URL"] == f"http://s3:{port}"


@pytest.mark.parametrize("name", ["control", "children"])
def test_workers_mount_handler_code_and_import_it(name: str) -> None:
    service = _services()[name]
    source, target, *_ = _interpolate(service["volumes"][0]).split(":")
    env = _environment(service)
    assert env["PYTHONPATH"] == target
    assert (REPO / source).is_dir()
    modules = json.loads(env["STEPMAP_HANDLER_MODULES"])
    local = [m for m in modules if not m.startswith("workers.")]
    assert local and all((REPO / source / f"{m}.py").is_file() for m in local)

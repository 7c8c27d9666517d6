"""deploy/k8s: every manifest validates against the Kubernetes schemas (kubernetes-validate,
offline) and the KEDA ScaledObject against a schema written from KEDA's documented fields; the
production overlay is rendered (a small subset of kustomize: namespace, images, ConfigMap merge,
strategic-merge patches by name) and validated again. Ties to the code: commands are real
``stepmap`` commands, variables are real settings, the scaler reads a real metric and queue.
"""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.api.metrics import METRIC_NAMES
from orchestrator.cli import app
from orchestrator.settings import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"
KEDA_SCHEMA = json.loads((K8S / "schemas" / "keda-scaledobject.schema.json").read_text())
WORKLOADS = ("Deployment", "StatefulSet")
SECRET = "stepmap-secrets"


def _load_kustomization(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for entry in kustomization["resources"]:
        path = (folder / entry).resolve()
        if path.is_dir():
            docs.extend(_render(path))
        else:
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return kustomization, docs


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as far as these manifests need it: maps recursively, lists of named
    maps by name, anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if (isinstance(base, list) and isinstance(patch, list) and patch
            and all(isinstance(x, dict) and "name" in x for x in base + patch)):
        merged = {item["name"]: item for item in base}
        for item in patch:
            merged[item["name"]] = _merge(merged.get(item["name"], {}), item)
        return list(merged.values())
    return patch


def _render(folder: Path) -> list[dict[str, Any]]:
    kustomization, docs = _load_kustomization(folder)
    docs = copy.deepcopy(docs)
    images = {i["name"]: f'{i["newName"]}:{i["newTag"]}' for i in kustomization.get("images", [])}
    for doc in docs:
        if "namespace" in kustomization and doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = kustomization["namespace"]
        for container in _containers(doc):
            name = container["image"].split(":")[0]
            container["image"] = images.get(name, container["image"])
        for generator in kustomization.get("configMapGenerator", []):
            if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == generator["name"]:
                assert generator["behavior"] == "merge"
                doc["data"].update(dict(x.split("=", 1) for x in generator["literals"]))
    for patch_ref in kustomization.get("patches", []):
        patch = yaml.safe_load((folder / patch_ref["path"]).read_text())
        targets = [i for i, d in enumerate(docs) if d["kind"] == patch["kind"]
                   and d["metadata"]["name"] == patch["metadata"]["name"]]
        assert len(targets) == 1, f"patch {patch_ref['path']} matches {len(targets)} resources"
        docs[targets[0]] = _merge(docs[targets[0]], patch)
    return docs


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] not in WORKLOADS:
        return []
    containers: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return containers


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


BASE = _render(K8S / "base")
PRODUCTION = _render(K8S / "overlays" / "production")


def _validate(doc: dict[str, Any]) -> None:
    if doc["apiVersion"].startswith("keda.sh/"):
        jsonschema.Draft202012Validator(KEDA_SCHEMA).validate(doc)
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("doc", BASE + PRODUCTION,
                         ids=lambda d: f'{d["kind"]}/{d["metadata"]["name"]}')
def test_manifest_validates_against_its_schema(doc: dict[str, Any]) -> None:
    _validate(doc)


def test_the_keda_schema_refuses_a_misspelt_field() -> None:
    scaled = copy.deepcopy(_by_kind(BASE, "ScaledObject")["stepmap-children"])
    scaled["spec"]["maxReplicas"] = 5
    with pytest.raises(jsonschema.ValidationError):
        _validate(scaled)


def test_base_runs_every_role_and_redis() -> None:
    workloads = {**_by_kind(BASE, "Deployment"), **_by_kind(BASE, "StatefulSet")}
    assert set(workloads) == {"stepmap-api", "stepmap-control", "stepmap-children",
                              "stepmap-flower", "stepmap-redis"}


@pytest.mark.parametrize("docs", [BASE, PRODUCTION], ids=["base", "production"])
def test_containers_have_probes_requests_and_secrets_only_from_the_secret(
    docs: list[dict[str, Any]],
) -> None:
    for doc in docs:
        for container in _containers(doc):
            where = f'{doc["metadata"]["name"]}/{container["name"]}'
            assert "readinessProbe" in container and "livenessProbe" in container, where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            for variable in container.get("env", []):
                if any(w in variable["name"] for w in ("SECRET", "TOKEN", "AUTH", "KEY")):
                    ref = variable["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == SECRET, where


@pytest.mark.parametrize("docs", [BASE, PRODUCTION], ids=["base", "production"])
def test_stepmap_containers_run_real_commands_with_real_settings(
    docs: list[dict[str, Any]],
) -> None:
    runner = CliRunner()
    config = _by_kind(docs, "ConfigMap")["stepmap-config"]["data"]
    for key in config:
        section, _, field = key.removeprefix("STEPMAP_").lower().partition("__")
        model = Settings.model_fields[section].annotation if field else None
        assert (field in model.model_fields) if model else section in Settings.model_fields, key  # type: ignore[union-attr]
    assert json.loads(config["STEPMAP_HANDLER_MODULES"])
    for doc in docs:
        for container in _containers(doc):
            argv = container["args"]
            if argv[0] != "stepmap":
                continue
            result = runner.invoke(app, [*argv[1:], "--help"])
            assert result.exit_code == 0, (argv, result.output)


def test_redis_keeps_an_append_only_file_on_a_persistent_volume() -> None:
    redis = _by_kind(BASE, "StatefulSet")["stepmap-redis"]
    (container,) = _containers(redis)
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    (mount,) = container["volumeMounts"]
    assert args[args.index("--dir") + 1] == mount["mountPath"]
    (claim,) = redis["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == mount["name"]
    service = _by_kind(BASE, "Service")["stepmap-redis"]
    assert Settings.model_validate(
        {"redis": {"url": _by_kind(BASE, "ConfigMap")["stepmap-config"]["data"]["STEPMAP_REDIS__URL"]}}
    ).redis.url.startswith(f'redis://{service["metadata"]["name"]}:{service["spec"]["ports"][0]["port"]}/')


def test_keda_scales_the_children_on_the_backlog_metric_and_queue() -> None:
    scaled = _by_kind(BASE, "ScaledObject")["stepmap-children"]
    assert scaled["spec"]["scaleTargetRef"]["name"] in _by_kind(BASE, "Deployment")
    triggers = {t["type"]: t["metadata"] for t in scaled["spec"]["triggers"]}
    query = triggers["prometheus"]["query"]
    assert "stepmap_children_backlog" in query and "stepmap_children_backlog" in METRIC_NAMES
    assert triggers["redis"]["listName"] == Settings().celery.children_queue
    redis_service = _by_kind(BASE, "Service")["stepmap-redis"]
    assert triggers["redis"]["address"] == (
        f'{redis_service["metadata"]["name"]}:{redis_service["spec"]["ports"][0]["port"]}')


def test_production_overlay_sets_namespace_image_handlers_and_scale() -> None:
    for doc in PRODUCTION:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "stepmap"
        for container in _containers(doc):
            if container["name"] != "redis":
                assert container["image"].startswith("registry.example.com/"), container["name"]
    assert _by_kind(PRODUCTION, "Deployment")["stepmap-api"]["spec"]["replicas"] == 3
    children = _containers(_by_kind(PRODUCTION, "Deployment")["stepmap-children"])[0]
    assert "readinessProbe" in children and children["args"][-1] == "8"
    modules = json.loads(_by_kind(PRODUCTION, "ConfigMap")["stepmap-config"]["data"]
                         ["STEPMAP_HANDLER_MODULES"])
    assert "acme_handlers" in modules
    assert _by_kind(PRODUCTION, "ScaledObject")["stepmap-children"]["spec"]["maxReplicaCount"] == 50
    assert shlex.join(children["args"]).startswith("stepmap worker children")

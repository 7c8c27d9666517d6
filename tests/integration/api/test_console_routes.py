"""The console's pages and assets are served by the API itself; its data needs the token."""

from __future__ import annotations

from orchestrator.api import create_app
from orchestrator.executions.service import StepFunctionsService
from orchestrator.settings import Settings
from tests.integration.api.support import TestClient

ASSETS = ("api.js", "chart.js", "views.js", "pause.js", "maprun.js", "console.js", "console.css")


def test_a_browser_opening_the_api_lands_on_the_console(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ASSETS:
        assert f"/console/static/{name}" in page.text
        asset = client.get(f"/console/static/{name}")
        assert asset.status_code == 200 and asset.text.strip(), name
        assert "http://" not in asset.text and "https://" not in asset.text, name


def test_with_auth_on_pages_load_and_data_needs_the_token(
    settings: Settings, service: StepFunctionsService
) -> None:
    locked = settings.model_copy(update={"api": settings.api.model_copy(
        update={"auth_enabled": True, "tokens": ["t0k3n"]})})
    with TestClient(create_app(locked, service)) as client:
        assert client.get("/console/").status_code == 200
        arn = "arn:aws:states:us-east-1:000000000000:mapRun:m/Map:x"
        assert client.get(f"/console/api/map-runs/{arn}/failures").status_code == 401
        assert client.get("/v1/state-machines").status_code == 401
        ok = client.get("/v1/state-machines", headers={"Authorization": "Bearer t0k3n"})
        assert ok.status_code == 200


def test_the_openapi_document_has_a_response_schema_for_every_v1_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    v1 = {(path, method): op for path, ops in paths.items() if path.startswith("/v1/")
          for method, op in ops.items()}
    assert len(v1) >= 16
    for (path, method), operation in v1.items():
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema.get("$ref"), (method, path)

"""Requests for the ``/v1`` face, generated from the server's own OpenAPI document.

Every path and method of ``/openapi.json``: path parameters (ARNs, known or malformed,
percent-encoded including invalid UTF-8), query parameters from their schemas, and JSON
bodies from the request-body schema (``$ref``/``anyOf`` resolved), then malformed the way
:mod:`tests.fuzz.aws_face` does; plus unknown paths and wrong methods.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

from tests.fuzz.driver import HttpRequest
from tests.fuzz.values import LONE_SURROGATE, dumps, nasty

_JSON = {"Content-Type": "application/json"}


def _encode(value: Any) -> str:
    text = value if isinstance(value, str) else dumps(value)
    # surrogatepass: a lone surrogate goes out as the invalid UTF-8 bytes %ED%A0%80.
    return quote(text.encode("utf-8", "surrogatepass"), safe=":/")


class RestFaceGenerator:
    """Seeded generator of ``/v1`` requests from an OpenAPI document.

    Args:
        rng: the random source.
        openapi: the server's OpenAPI document.
        pool: known good values by camelCase name (``arn`` for path parameters).
        tokens: page tokens handed out by the server.
    """

    def __init__(self, rng: random.Random, openapi: dict[str, Any], pool: dict[str, list[Any]],
                 tokens: list[str]) -> None:
        self.rng = rng
        self.doc = openapi
        self.pool = pool
        self.tokens = tokens
        self.routes = [(path, method.upper(), spec)
                       for path, methods in openapi["paths"].items() if path.startswith("/v1")
                       for method, spec in methods.items()]

    def request(self) -> HttpRequest:
        """One request; some to unknown paths or with the wrong method."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            path = rng.choice(["/v1/nowhere", "/v1/", "/v2/state-machines", "/v1/executions/x/y/z",
                               "/" + "a" * 3000, "/v1/state-machines/%ED%A0%80", "/%00"])
            return HttpRequest(rng.choice(["GET", "POST", "DELETE"]), path, _JSON, b"{}", "v1")
        path_template, method, spec = rng.choice(self.routes)
        if roll < 0.09:
            method = rng.choice(["PUT", "HEAD", "OPTIONS", "TRACE"] if method != "GET"
                                else ["PUT", "DELETE"])
        path = path_template.replace("{arn}", _encode(self._pick("arn")))
        query = []
        for param in spec.get("parameters", []):
            if param.get("in") == "query" and rng.random() < 0.5:
                value = self._from_schema(param.get("schema", {}), param["name"], 0)
                query.append(f"{param['name']}={_encode(value)}")
        if query:
            path += "?" + "&".join(query)
        body = b""
        content = spec.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None and (method in ("POST", "PATCH") or rng.random() < 0.1):
            value = self._from_schema(content.get("schema", {}), "body", 0)
            if isinstance(value, dict) and rng.random() < 0.6:
                key = rng.choice(sorted(value) or ["unexpected"])
                value[key] = nasty(rng, self.tokens)
            body = (dumps(value).encode("ascii") if rng.random() > 0.05
                    else rng.choice([b"{", b"[1,", b"\xff", b"NaN", b"[" * 4000]))
        return HttpRequest(method, path, _JSON, body, "v1")

    def _pick(self, name: str) -> Any:
        if name in self.pool and self.rng.random() < 0.75:
            return self.rng.choice(self.pool[name])
        return nasty(self.rng, self.tokens)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _from_schema(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        rng = self.rng
        schema = self._resolve(schema)
        if name in self.pool and rng.random() < 0.7:
            return rng.choice(self.pool[name])
        if rng.random() < 0.15 or depth > 4:
            return nasty(rng, self.tokens)
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            return self._from_schema(rng.choice(options), name, depth + 1)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            required = set(schema.get("required", ()))
            return {key: self._from_schema(sub, key, depth + 1) for key, sub in props.items()
                    if key in required or rng.random() < 0.4}
        if kind == "array":
            return [self._from_schema(schema.get("items", {}), name, depth + 1)
                    for _ in range(rng.randint(0, 2))]
        if kind == "integer":
            return rng.choice([0, 1, 5, 100, 1000, 1001, -1, 2**64])
        if kind == "number":
            return rng.choice([0.0, 2.5, 100.0, 101.0, -0.1])
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        return rng.choice(["x", "name-1", "", "a" * 90, LONE_SURROGATE])

"""Requests for the AWS JSON 1.0 face, generated from botocore's Step Functions model.

Every operation of ``stepfunctions/2016-11-23/service-2.json`` (stepmap serves 15 of the 37;
the others must be ``UnknownOperationException``, not a crash). Each member is built from its
shape (structure, list, map, string, integer, boolean, timestamp...) with values that reach the
service (known ARNs, a valid definition, JSON input), and then malformed: members replaced by
:func:`tests.fuzz.values.nasty` values, required members dropped, whole bodies broken.
"""

from __future__ import annotations

import random
from typing import Any

import botocore.loaders

from tests.fuzz.driver import HttpRequest
from tests.fuzz.values import LONE_SURROGATE, deep, dumps, nasty

TARGET = "AWSStepFunctions."


class AwsFaceGenerator:
    """Seeded generator of AWS-face requests.

    Args:
        rng: the random source (seeded by the caller, so a run can be replayed).
        pool: known good values by member name (ARNs of created resources, a definition...).
        tokens: page tokens handed out by the server, reused across operations.
    """

    def __init__(self, rng: random.Random, pool: dict[str, list[Any]], tokens: list[str]) -> None:
        model = botocore.loaders.Loader().load_service_model("stepfunctions", "service-2")
        self.shapes: dict[str, Any] = model["shapes"]
        self.operations: dict[str, Any] = model["operations"]
        self.rng = rng
        self.pool = pool
        self.tokens = tokens

    def request(self) -> HttpRequest:
        """One request; about one in eight is broken as a whole, most others in a member."""
        rng = self.rng
        name = rng.choice(sorted(self.operations))
        headers = {"X-Amz-Target": TARGET + name, "Content-Type": "application/x-amz-json-1.0"}
        roll = rng.random()
        if roll < 0.04:
            body = rng.choice([b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe", b"{} {}",
                               b"[" * 5000, b"{\"a\":" * 3000, b"\x00" * 10])
            return HttpRequest("POST", "/", headers, body, "aws")
        if roll < 0.07:
            headers["X-Amz-Target"] = rng.choice(
                ["", "AWSStepFunctions.", "Nope.ListStateMachines", TARGET + LONE_SURROGATE,
                 TARGET + "x" * 3000])
            return HttpRequest("POST", "/", headers, b"{}", "aws")
        if roll < 0.09:
            method = rng.choice(["GET", "PUT", "DELETE", "PATCH"])
            return HttpRequest(method, "/", headers, b"{}", "aws")
        operation = self.operations[name]
        shape_name = operation.get("input", {}).get("shape")
        body_value = self._structure(shape_name, 0) if shape_name else {}
        if rng.random() < 0.6 and isinstance(body_value, dict):
            self._break_member(body_value, shape_name)
        return HttpRequest("POST", "/", headers, dumps(body_value).encode("ascii"), "aws")

    def _break_member(self, body: dict[str, Any], shape_name: str | None) -> None:
        rng = self.rng
        members = list(self.shapes[shape_name]["members"]) if shape_name else []
        if not members:
            body["unexpected"] = nasty(rng, self.tokens)
            return
        member = rng.choice(members)
        action = rng.random()
        if action < 0.15:
            body.pop(member, None)
        elif action < 0.25 and member in ("input", "definition"):
            body[member] = rng.choice([
                '{"a": "\\ud800"}', '{"a": NaN}', '{"a": 1e999}', "[" * 990 + "]" * 990,
                "null", "", "{" * 3000, '{"StartAt": "\\udfff", "States": {}}'])
        else:
            body[member] = nasty(rng, self.tokens)

    def _value(self, shape_name: str, member: str, depth: int) -> Any:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        rng = self.rng
        if member in self.pool and rng.random() < 0.8:
            return rng.choice(self.pool[member])
        if kind == "structure":
            return self._structure(shape_name, depth + 1)
        if kind == "list":
            return [self._value(shape["member"]["shape"], member, depth + 1)
                    for _ in range(rng.randint(0, 2))] if depth < 4 else []
        if kind == "map":
            return {f"k{i}": self._value(shape["value"]["shape"], member, depth + 1)
                    for i in range(rng.randint(0, 2))} if depth < 4 else {}
        if kind in ("integer", "long"):
            low, high = int(shape.get("min", 0)), int(shape.get("max", 1000))
            return rng.randint(low, min(high, low + 2000))
        if kind in ("float", "double"):
            return rng.uniform(0, 100)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            return rng.randint(0, 2_000_000_000)
        if "enum" in shape:
            return rng.choice(shape["enum"])
        length = rng.randint(int(shape.get("min", 0)), min(int(shape.get("max", 20)), 40))
        return "".join(rng.choice("abcXYZ019-_") for _ in range(length))

    def _structure(self, shape_name: str, depth: int) -> dict[str, Any]:
        shape = self.shapes[shape_name]
        required = set(shape.get("required", ()))
        out: dict[str, Any] = {}
        for member, spec in shape.get("members", {}).items():
            if member in required or self.rng.random() < 0.3:
                out[member] = self._value(spec["shape"], member, depth) if depth < 5 else deep(3)
        return out

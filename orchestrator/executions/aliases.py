"""State machine aliases: Create/Describe/Update/Delete/ListStateMachineAliases, routing.

An alias routes StartExecution to one or two versions of its state machine by weight
(``routingConfiguration``: 1..2 entries, weights 0..100 summing to 100, distinct versions that
exist). Creating an alias that exists with the same configuration returns it (idempotent);
with another configuration it is a ``ConflictException``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from orchestrator.executions import family, params, qualified
from orchestrator.executions.arns import MAX_ARN_LENGTH
from orchestrator.executions.errors import (
    ResourceNotFound,
    ValidationException,
    validation_message,
)
from orchestrator.executions.lifecycle_errors import (
    ConflictException,
    ServiceQuotaExceededException,
)
from orchestrator.executions.parts import ServiceParts
from orchestrator.executions.versions import MAX_DESCRIPTION_LENGTH, unqualified_only

MAX_ALIASES = 100
MAX_ROUTES = 2

Request = Mapping[str, Any]


def _routing(request: Request, base_arn: str, store: Any) -> list[dict[str, Any]]:
    """``routingConfiguration`` checked against the API model and the machine's versions."""
    routes = request.get("routingConfiguration")
    if not isinstance(routes, list) or not 1 <= len(routes) <= MAX_ROUTES:
        raise ValidationException(
            validation_message(
                "Value at 'routingConfiguration' failed to satisfy constraint: Member must be "
                f"a list of 1 to {MAX_ROUTES} RoutingConfigurationListItem"
            )
        )
    checked: list[dict[str, Any]] = []
    for index, route in enumerate(routes):
        where = f"routingConfiguration.{index + 1}"
        if not isinstance(route, dict):
            raise ValidationException(f"{where} must be an object")
        version = params.required_str(route, "stateMachineVersionArn", MAX_ARN_LENGTH)
        weight = params.int_in_range(route, "weight", 0, 100)
        if weight is None:
            raise ValidationException(
                validation_message(
                    f"Value null at '{where}.weight' failed to satisfy constraint: "
                    "Member must not be null"
                )
            )
        ref = qualified.parse(version)
        if ref.version is None or ref.base_arn != base_arn:
            raise ValidationException(
                f"{where}.stateMachineVersionArn must be a version of '{base_arn}': '{version}'"
            )
        record = store.get_state_machine(version)
        if record is None or record.get(family.KIND) != "version":
            raise ResourceNotFound(f"Resource not found: '{version}'")
        checked.append({"stateMachineVersionArn": version, "weight": weight})
    if len({r["stateMachineVersionArn"] for r in checked}) != len(checked):
        raise ValidationException("routingConfiguration must name distinct versions")
    if sum(r["weight"] for r in checked) != 100:
        raise ValidationException("The weights of routingConfiguration must add up to 100")
    return checked


def choose_version(routes: list[dict[str, Any]], draw: float | None = None) -> str:
    """The version an execution started on the alias runs, drawn by weight."""
    point = (random.random() if draw is None else draw) * 100
    for route in routes:
        point -= route["weight"]
        if point < 0:
            return str(route["stateMachineVersionArn"])
    heavy = [r for r in routes if r["weight"] > 0] or routes
    return str(heavy[-1]["stateMachineVersionArn"])


class AliasesMixin(ServiceParts):
    """The five alias operations."""

    def _alias(self, arn: str) -> tuple[qualified.QualifiedRef, dict[str, Any]]:
        ref = qualified.parse(arn)
        if ref.alias is None:
            raise ValidationException(f"stateMachineAliasArn must be an alias ARN: '{arn}'")
        record = self.store.get_state_machine(arn)
        if record is None or record.get(family.KIND) != "alias":
            raise ResourceNotFound(f"Resource not found: '{arn}'")
        return ref, record

    def create_state_machine_alias(self, request: Request) -> dict[str, Any]:
        """CreateStateMachineAlias (idempotent for an identical alias)."""
        name = params.required_str(request, "name", qualified.MAX_ALIAS_NAME_LENGTH)
        description = params.optional_str(
            request, "description", MAX_DESCRIPTION_LENGTH, min_length=0
        )
        qualified.validate_alias_name(name)
        routes = request.get("routingConfiguration")
        first = routes[0] if isinstance(routes, list) and routes else {}
        version = first.get("stateMachineVersionArn") if isinstance(first, dict) else None
        if not isinstance(version, str):
            _routing(request, "", self.store)  # reports the malformed member
            raise ValidationException("routingConfiguration names no version")
        base = qualified.parse(version).base_arn
        self._machine(base)
        checked = _routing(request, base, self.store)
        arn = qualified.alias_arn(base, name)
        now = self._clock()
        record: dict[str, Any] = {
            "stateMachineArn": arn,
            "name": name,
            "description": description,
            "routingConfiguration": checked,
            "creationDate": now,
            "updateDate": now,
            family.KIND: "alias",
            family.BASE: base,
        }
        if sum(1 for _ in family.members(self.store, base, "alias")) >= MAX_ALIASES:
            raise ServiceQuotaExceededException(
                f"State machine '{base}' has {MAX_ALIASES} aliases, the most allowed"
            )
        if not self.store.insert_state_machine(record):
            existing = self.store.get_state_machine(arn) or {}
            same = (existing.get("description"), existing.get("routingConfiguration")) == (
                description,
                checked,
            )
            if not same:
                raise ConflictException(
                    f"Alias '{arn}' exists with another description or routingConfiguration"
                )
            record = existing
        return {"stateMachineAliasArn": arn, "creationDate": record["creationDate"]}

    def describe_state_machine_alias(self, request: Request) -> dict[str, Any]:
        """DescribeStateMachineAlias."""
        arn = params.required_str(request, "stateMachineAliasArn", MAX_ARN_LENGTH)
        _, record = self._alias(arn)
        out: dict[str, Any] = {
            "stateMachineAliasArn": arn,
            "name": record["name"],
            "routingConfiguration": record["routingConfiguration"],
            "creationDate": record["creationDate"],
            "updateDate": record.get("updateDate", record["creationDate"]),
        }
        if record.get("description") is not None:
            out["description"] = record["description"]
        return out

    def update_state_machine_alias(self, request: Request) -> dict[str, Any]:
        """UpdateStateMachineAlias: description and/or routingConfiguration."""
        arn = params.required_str(request, "stateMachineAliasArn", MAX_ARN_LENGTH)
        description = params.optional_str(
            request, "description", MAX_DESCRIPTION_LENGTH, min_length=0
        )
        ref, _ = self._alias(arn)
        if description is None and request.get("routingConfiguration") is None:
            raise ValidationException(
                "UpdateStateMachineAlias needs a description or a routingConfiguration"
            )
        changes: dict[str, Any] = {"updateDate": self._clock()}
        if description is not None:
            changes["description"] = description
        if request.get("routingConfiguration") is not None:
            changes["routingConfiguration"] = _routing(request, ref.base_arn, self.store)
        self.store.update_state_machine(arn, changes)
        return {"updateDate": changes["updateDate"]}

    def delete_state_machine_alias(self, request: Request) -> dict[str, Any]:
        """DeleteStateMachineAlias."""
        arn = params.required_str(request, "stateMachineAliasArn", MAX_ARN_LENGTH)
        self._alias(arn)
        self.store.delete_state_machine(arn)
        return {}

    def list_state_machine_aliases(self, request: Request) -> dict[str, Any]:
        """ListStateMachineAliases of a machine, or of the aliases routing to one version."""
        given = params.required_str(request, "stateMachineArn", MAX_ARN_LENGTH)
        size = params.page_size(request)
        token = params.optional_str(request, "nextToken", 1024)
        ref = qualified.parse(given)
        if ref.alias is not None:
            unqualified_only(given, "ListStateMachineAliases")
        self._machine(ref.base_arn)
        start = int(self._tokens.resolve(token, "ListStateMachineAliases", given) or 0)
        aliases = [
            record
            for record in family.members(self.store, ref.base_arn, "alias")
            if ref.version is None
            or given in [r["stateMachineVersionArn"] for r in record["routingConfiguration"]]
        ]
        out: dict[str, Any] = {
            "stateMachineAliases": [
                {"stateMachineAliasArn": a["stateMachineArn"], "creationDate": a["creationDate"]}
                for a in aliases[start : start + size]
            ]
        }
        if start + size < len(aliases):
            out["nextToken"] = self._tokens.issue("ListStateMachineAliases", given, start + size)
        return out

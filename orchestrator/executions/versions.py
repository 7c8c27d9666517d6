"""UpdateStateMachine and state machine versions (publish, list, delete, describe).

Semantics follow AWS's API reference: a version is an immutable copy of the machine's current
revision, numbered from 1 and never renumbered; publishing the revision that already has a
version returns that version (idempotent); ``revisionId`` guards against publishing a revision
that changed meanwhile (``INITIAL`` names a machine never updated); at most 1000 versions per
machine; a version that an alias routes to cannot be deleted (``ConflictException``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from orchestrator.executions import family, params, qualified, views
from orchestrator.executions.arns import MAX_ARN_LENGTH
from orchestrator.executions.errors import (
    StateMachineDeleting,
    StateMachineDoesNotExist,
    ValidationException,
    validation_message,
)
from orchestrator.executions.lifecycle_errors import (
    ConflictException,
    ServiceQuotaExceededException,
)
from orchestrator.executions.parts import ServiceParts

MAX_VERSIONS = 1000
MAX_DEFINITION_BYTES = 1_048_576
MAX_DESCRIPTION_LENGTH = 256
INITIAL_REVISION = "INITIAL"
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
#: Fields UpdateStateMachine may change.
UPDATABLE = (
    "definition",
    "roleArn",
    "loggingConfiguration",
    "tracingConfiguration",
    "encryptionConfiguration",
)

Request = Mapping[str, Any]


def unqualified_only(arn: str, operation: str) -> qualified.QualifiedRef:
    """Parse ``arn`` and refuse a version, alias or Distributed Map labelled ARN."""
    if "/" in arn.partition(":stateMachine:")[2]:
        raise ValidationException(
            f"{operation} does not support labelled state machine ARNs: '{arn}'",
            reason="API_DOES_NOT_SUPPORT_LABELED_ARNS",
        )
    ref = qualified.parse(arn)
    if ref.is_qualified:
        raise ValidationException(
            f"{operation} expects an unqualified state machine ARN, got a "
            f"{'version' if ref.version is not None else 'alias'} ARN: '{arn}'"
        )
    return ref


def configuration_fields(request: Request) -> dict[str, Any]:
    """The logging/tracing/encryption objects of a Create or Update request, checked."""
    fields: dict[str, Any] = {}
    for name in ("loggingConfiguration", "tracingConfiguration", "encryptionConfiguration"):
        value = request.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise ValidationException(
                validation_message(f"Value at '{name}' failed to satisfy constraint: "
                                   "Member must be an object")
            )
        fields[name] = value
    logging = fields.get("loggingConfiguration")
    if logging is not None:
        params.enum_str(logging, "level", LOG_LEVELS)
        params.boolean(logging, "includeExecutionData", False)
        destinations = logging.get("destinations", [])
        if not isinstance(destinations, list) or len(destinations) > 1:
            raise ValidationException(
                validation_message("Value at 'loggingConfiguration.destinations' failed to "
                                   "satisfy constraint: Member must be a list of at most 1")
            )
    tracing = fields.get("tracingConfiguration")
    if tracing is not None:
        params.boolean(tracing, "enabled", False)
    return fields


def publish_flags(request: Request) -> tuple[bool, str | None]:
    """(``publish``, ``versionDescription``); a description without publish is refused."""
    publish = params.boolean(request, "publish", False)
    description = params.optional_str(
        request, "versionDescription", MAX_DESCRIPTION_LENGTH, min_length=0
    )
    if description is not None and not publish:
        raise ValidationException(
            "versionDescription can only be set when publish is true"
        )
    return publish, description


class VersionsMixin(ServiceParts):
    """UpdateStateMachine, PublishStateMachineVersion, List/DeleteStateMachineVersion(s)."""

    def _active_machine(self, arn: str) -> dict[str, Any]:
        record = self._machine(arn)
        if record.get("status") == "DELETING":
            raise StateMachineDeleting(f"State machine is being deleted: '{arn}'")
        return record

    def update_state_machine(self, request: Request) -> dict[str, Any]:
        """UpdateStateMachine: a new revision when anything changes; optionally published."""
        given = params.required_str(request, "stateMachineArn", MAX_ARN_LENGTH)
        definition = params.optional_str(request, "definition", MAX_DEFINITION_BYTES)
        role_arn = params.optional_str(request, "roleArn", MAX_ARN_LENGTH)
        config = configuration_fields(request)
        publish, description = publish_flags(request)
        ref = unqualified_only(given, "UpdateStateMachine")
        if definition is None and role_arn is None and not config:
            raise ValidationException(
                "UpdateStateMachine needs at least one of definition, roleArn, "
                "loggingConfiguration, tracingConfiguration or encryptionConfiguration"
            )
        machine = self._active_machine(ref.base_arn)
        if definition is not None:
            self._require_valid(definition, machine["type"])
        wanted = {"definition": definition, "roleArn": role_arn, **config}
        changes = {k: v for k, v in wanted.items() if v is not None and machine.get(k) != v}
        now = self._clock()
        if changes or not machine.get("revisionId"):
            revision = str(uuid.uuid4())
            key = revision if changes else machine.get(family.REVISION_KEY, revision)
            changes.update({"revisionId": revision, family.REVISION_KEY: key})
            if changes.keys() - {"revisionId", family.REVISION_KEY}:
                changes["updateDate"] = now
            self.store.update_state_machine(ref.base_arn, changes)
            machine.update(changes)
        out: dict[str, Any] = {
            "updateDate": machine.get("updateDate", machine["creationDate"]),
            "revisionId": machine["revisionId"],
        }
        if publish:
            version = self._publish(machine, description, None)
            out["stateMachineVersionArn"] = version["stateMachineArn"]
        return out

    def _publish(
        self, machine: dict[str, Any], description: str | None, expected_revision: str | None
    ) -> dict[str, Any]:
        """The version of ``machine``'s current revision, published now if it has none."""
        base = machine["stateMachineArn"]
        current = machine.get("revisionId") or INITIAL_REVISION
        if expected_revision is not None and expected_revision != current:
            raise ConflictException(
                f"Failed to publish the state machine version: revisionId '{expected_revision}' "
                f"is not the current revision '{current}' of '{base}'"
            )
        versions = list(family.members(self.store, base, "version"))
        key = machine.get(family.REVISION_KEY)
        for version in versions:
            if key and version.get(family.REVISION_KEY) == key:
                return version
        if len(versions) >= MAX_VERSIONS:
            raise ServiceQuotaExceededException(
                f"State machine '{base}' has {MAX_VERSIONS} versions, the most allowed; "
                "delete unused versions with DeleteStateMachineVersion"
            )
        number = int(machine.get("lastVersion", 0)) + 1
        record: dict[str, Any] = {
            field: machine[field] for field in family.CONFIGURATION if field in machine
        }
        record.update(
            {
                "name": machine["name"],
                "status": "ACTIVE",
                "creationDate": self._clock(),
                "description": description,
                family.KIND: "version",
                family.BASE: base,
            }
        )
        while True:
            record["stateMachineArn"] = qualified.version_arn(base, number)
            record["versionNumber"] = str(number)
            if self.store.insert_state_machine(record):
                break
            number += 1  # taken by a concurrent publish
        self.store.update_state_machine(base, {"lastVersion": str(number)})
        return {k: v for k, v in record.items() if v is not None}

    def publish_state_machine_version(self, request: Request) -> dict[str, Any]:
        """PublishStateMachineVersion."""
        given = params.required_str(request, "stateMachineArn", MAX_ARN_LENGTH)
        revision = params.optional_str(request, "revisionId", 256)
        description = params.optional_str(
            request, "description", MAX_DESCRIPTION_LENGTH, min_length=0
        )
        ref = unqualified_only(given, "PublishStateMachineVersion")
        machine = self._active_machine(ref.base_arn)
        version = self._publish(machine, description, revision)
        return {
            "creationDate": version["creationDate"],
            "stateMachineVersionArn": version["stateMachineArn"],
        }

    def list_state_machine_versions(self, request: Request) -> dict[str, Any]:
        """ListStateMachineVersions, newest first."""
        given = params.required_str(request, "stateMachineArn", MAX_ARN_LENGTH)
        size = params.page_size(request)
        token = params.optional_str(request, "nextToken", 1024)
        ref = unqualified_only(given, "ListStateMachineVersions")
        start = int(self._tokens.resolve(token, "ListStateMachineVersions", ref.base_arn) or 0)
        versions = sorted(
            family.members(self.store, ref.base_arn, "version"),
            key=lambda record: int(record["versionNumber"]),
            reverse=True,
        )
        page = versions[start : start + size]
        out: dict[str, Any] = {
            "stateMachineVersions": [
                {"stateMachineVersionArn": v["stateMachineArn"], "creationDate": v["creationDate"]}
                for v in page
            ]
        }
        if start + size < len(versions):
            out["nextToken"] = self._tokens.issue(
                "ListStateMachineVersions", ref.base_arn, start + size
            )
        return out

    def delete_state_machine_version(self, request: Request) -> dict[str, Any]:
        """DeleteStateMachineVersion: refused while an alias routes to it; unknown is a no-op."""
        given = params.required_str(request, "stateMachineVersionArn", MAX_ARN_LENGTH)
        ref = qualified.parse(given)
        if ref.version is None:
            raise ValidationException(
                f"stateMachineVersionArn must be a state machine version ARN: '{given}'"
            )
        for alias in family.members(self.store, ref.base_arn, "alias"):
            targets = [r.get("stateMachineVersionArn") for r in alias["routingConfiguration"]]
            if given in targets:
                raise ConflictException(
                    f"Version '{given}' is referenced by alias '{alias['stateMachineArn']}'; "
                    "update or delete the alias first"
                )
        record = self.store.get_state_machine(given)
        if record is not None and record.get(family.KIND) == "version":
            self.store.delete_state_machine(given)
        return {}

    def _version(self, ref: qualified.QualifiedRef) -> dict[str, Any]:
        record = self.store.get_state_machine(ref.given)
        if record is None or record.get(family.KIND) != "version":
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{ref.given}'")
        return record

    def describe_version(self, ref: qualified.QualifiedRef) -> dict[str, Any]:
        """DescribeStateMachine of a version ARN."""
        record = self._version(ref)
        out = views.state_machine_description({**record, "status": "ACTIVE"})
        for field in ("revisionId", "description", "encryptionConfiguration"):
            if record.get(field) is not None:
                out[field] = record[field]
        return out

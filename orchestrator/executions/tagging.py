"""TagResource, UntagResource and ListTagsForResource on state machines.

Tags live on the state machine record (``tags``: a list of ``{"key", "value"}``). Keys are
1..128 characters, values 0..256, at most 50 tags per resource (``TooManyTags``). Keys starting
with ``aws:`` are reserved, as on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.executions import family, params
from orchestrator.executions.arns import MAX_ARN_LENGTH, parse_arn
from orchestrator.executions.binding import BindingError, check_tags
from orchestrator.executions.errors import (
    ResourceNotFound,
    ValidationException,
    validation_message,
)
from orchestrator.executions.lifecycle_errors import TooManyTags
from orchestrator.executions.parts import ServiceParts

MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256

Request = Mapping[str, Any]


def checked_tags(request: Request, field: str = "tags") -> list[dict[str, str]]:
    """The ``tags`` member as a list of ``{"key", "value"}``, each checked."""
    raw = request.get(field)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationException(
            validation_message(f"Value at '{field}' failed to satisfy constraint: "
                               "Member must be a list of Tag")
        )
    tags: list[dict[str, str]] = []
    for index, tag in enumerate(raw):
        where = f"{field}.{index + 1}"
        if not isinstance(tag, dict):
            raise ValidationException(f"{where} must be an object with key and value")
        key = params.optional_str(tag, "key", MAX_KEY_LENGTH)
        value = params.optional_str(tag, "value", MAX_VALUE_LENGTH, min_length=0)
        if key is None:
            raise ValidationException(
                validation_message(f"Value null at '{where}.key' failed to satisfy constraint: "
                                   "Member must not be null")
            )
        if key.lower().startswith("aws:"):
            raise ValidationException(f"Tag keys starting with 'aws:' are reserved: '{key}'")
        tags.append({"key": key, "value": value or ""})
    try:
        check_tags(tags)  # stepmap:pools, stepmap:itemsPerSecond ... (binding.py)
    except BindingError as exc:
        raise ValidationException(str(exc)) from None
    return tags


def check_count(tags: list[dict[str, str]], resource: str) -> None:
    """Raise ``TooManyTags`` when ``tags`` holds more than 50 tags."""
    if len(tags) > MAX_TAGS:
        raise TooManyTags(
            f"Too many tags: {len(tags)} on '{resource}', at most {MAX_TAGS} allowed", resource
        )


def merged(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """``current`` with ``new`` applied (a key given again replaces its value)."""
    values = {tag["key"]: tag["value"] for tag in current}
    values.update({tag["key"]: tag["value"] for tag in new})
    return [{"key": key, "value": value} for key, value in values.items()]


class TaggingMixin(ServiceParts):
    """Tags of state machines."""

    def _taggable(self, arn: str) -> dict[str, Any]:
        parsed = parse_arn(arn)
        record = self.store.get_state_machine(arn) if parsed.resource_type == "stateMachine" else None
        if record is None or family.is_hidden(record):
            raise ResourceNotFound(f"Resource not found: '{arn}'")
        return record

    def _store_tags(self, arn: str, tags: list[dict[str, str]]) -> None:
        check_count(tags, arn)
        self.store.update_state_machine(arn, {"tags": tags or None})

    def tag_resource(self, request: Request) -> dict[str, Any]:
        """TagResource: adds tags, replacing the values of keys already there."""
        arn = params.required_str(request, "resourceArn", MAX_ARN_LENGTH)
        if request.get("tags") is None:
            params.required_str(request, "tags")
        new = checked_tags(request)
        record = self._taggable(arn)
        self._store_tags(arn, merged(record.get("tags", []), new))
        return {}

    def untag_resource(self, request: Request) -> dict[str, Any]:
        """UntagResource: removes the given keys (absent keys are ignored)."""
        arn = params.required_str(request, "resourceArn", MAX_ARN_LENGTH)
        keys = request.get("tagKeys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValidationException(
                validation_message("Value at 'tagKeys' failed to satisfy constraint: "
                                   "Member must be a list of strings")
            )
        record = self._taggable(arn)
        kept = [tag for tag in record.get("tags", []) if tag["key"] not in set(keys)]
        self._store_tags(arn, kept)
        return {}

    def list_tags_for_resource(self, request: Request) -> dict[str, Any]:
        """ListTagsForResource."""
        arn = params.required_str(request, "resourceArn", MAX_ARN_LENGTH)
        return {"tags": list(self._taggable(arn).get("tags", []))}

"""Qualified state machine ARNs: versions (``...:stateMachine:{name}:{n}``) and aliases.

Shapes (AWS)::

    version   arn:aws:states:{region}:{account}:stateMachine:{name}:{version number}
    alias     arn:aws:states:{region}:{account}:stateMachine:{name}:{alias name}

A qualifier made only of digits is a version number; anything else is an alias name. Alias
names follow the API model's ``CharacterRestrictedName`` rule: 1..80 characters of
``[a-zA-Z0-9_.-]`` with at least one that is not a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.executions import arns
from orchestrator.executions.errors import InvalidArn, ValidationException, validation_message

MAX_ALIAS_NAME_LENGTH = 80
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$")


@dataclass(frozen=True, slots=True)
class QualifiedRef:
    """A state machine ARN with its optional qualifier.

    Attributes:
        given: the ARN as the caller wrote it.
        base_arn: the unqualified state machine ARN.
        name: the state machine name.
        version: the version number of a version ARN, else ``None``.
        alias: the alias name of an alias ARN, else ``None``.
    """

    given: str
    base_arn: str
    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def is_qualified(self) -> bool:
        """Whether the ARN names a version or an alias."""
        return self.version is not None or self.alias is not None


def parse(arn: str) -> QualifiedRef:
    """Parse an unqualified, version or alias state machine ARN (never a labelled one).

    Raises:
        InvalidArn: not a state machine ARN of one of those shapes.
    """
    parsed = arns.parse_arn(arn)
    if parsed.resource_type != "stateMachine":
        raise InvalidArn(
            f"Invalid Arn: 'Resource type not valid in this context: {parsed.resource_type}'"
        )
    name, sep, qualifier = parsed.resource.partition(":")
    if not name or "/" in name or ":" in qualifier or (sep and not qualifier):
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    base = arns.state_machine_arn(parsed.region, parsed.account, name)
    if not sep:
        return QualifiedRef(arn, base, name)
    if qualifier.isdigit():
        return QualifiedRef(arn, base, name, version=int(qualifier))
    if not _ALIAS_NAME.match(qualifier) or len(qualifier) > MAX_ALIAS_NAME_LENGTH:
        raise InvalidArn(f"Invalid Arn: 'Invalid alias name in ARN: {arn}'")
    return QualifiedRef(arn, base, name, alias=qualifier)


def is_qualified(arn: str) -> bool:
    """Whether ``arn`` looks like a version or alias ARN (a third ``:`` part after the name)."""
    head, _, resource = arn.partition(":stateMachine:")
    return bool(head) and ":" in resource


def version_arn(base_arn: str, number: int) -> str:
    """The ARN of version ``number`` of ``base_arn``."""
    return f"{base_arn}:{number}"


def alias_arn(base_arn: str, alias: str) -> str:
    """The ARN of alias ``alias`` of ``base_arn``."""
    return f"{base_arn}:{alias}"


def validate_alias_name(name: str) -> None:
    """Check an alias name against the API model.

    Raises:
        ValidationException: empty, too long, or not matching ``CharacterRestrictedName``.
    """
    if not 1 <= len(name) <= MAX_ALIAS_NAME_LENGTH or not _ALIAS_NAME.match(name):
        raise ValidationException(
            validation_message(
                f"Value '{name}' at 'name' failed to satisfy constraint: Member must be 1 to "
                f"{MAX_ALIAS_NAME_LENGTH} characters of [a-zA-Z0-9_.-], not only digits"
            )
        )

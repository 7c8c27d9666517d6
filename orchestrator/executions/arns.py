"""ARN building and parsing, and the name rules of state machines and executions (spec 1.4).

Shapes (``{p}`` = partition, always ``aws`` here)::

    state machine      arn:{p}:states:{region}:{account}:stateMachine:{name}
    labelled machine   arn:{p}:states:{region}:{account}:stateMachine:{name}/{label}
    parent execution   arn:{p}:states:{region}:{account}:execution:{name}:{executionName}
    child execution    arn:{p}:states:{region}:{account}:execution:{name}/{label}:{childName}
    Map Run            arn:{p}:states:{region}:{account}:mapRun:{name}/{label}:{mapRunId}

Names and labels never contain ``:``, so splitting on ``:`` is unambiguous; only labelled
state machine parts contain ``/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.executions.errors import (
    InvalidArn,
    InvalidName,
    ValidationException,
    validation_message,
)

PARTITION = "aws"
MAX_NAME_LENGTH = 80
MAX_ARN_LENGTH = 256
MAX_LONG_ARN_LENGTH = 2000

# Spec 1.4: characters never allowed in a state machine or execution name.
_FORBIDDEN_NAME_CHARS = frozenset('<>{}[]?*"#%\\^|~`$&,;:/')


def _is_forbidden_char(char: str) -> bool:
    code = ord(char)
    return (
        char in _FORBIDDEN_NAME_CHARS
        or char.isspace()
        or code <= 0x1F
        or 0x7F <= code <= 0x9F
        or code in (0xFFFE, 0xFFFF)
        or 0xD800 <= code <= 0xDFFF
    )


def validate_name(name: str, field: str = "name") -> None:
    """Check a state machine or execution name against spec 1.4.

    Raises:
        ValidationException: the length is outside 1..80 (a constraint of the API model).
        InvalidName: a forbidden character (whitespace, ``<>{}[]?*"#%\\^|~`$&,;:/``, controls).
    """
    if len(name) < 1:
        raise ValidationException(
            validation_message(
                f"Value '{name}' at '{field}' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationException(
            validation_message(
                f"Value '{name}' at '{field}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_NAME_LENGTH}"
            )
        )
    if any(_is_forbidden_char(char) for char in name):
        raise InvalidName(f"Invalid Name: '{name}'")


@dataclass(frozen=True, slots=True)
class ParsedArn:
    """The parts of a Step Functions ARN.

    Attributes:
        region: the region part.
        account: the account part.
        resource_type: ``stateMachine``, ``execution``, ``express`` or ``mapRun``.
        resource: everything after the resource type (may contain ``:``).
    """

    region: str
    account: str
    resource_type: str
    resource: str

    @property
    def prefix(self) -> str:
        """``arn:aws:states:{region}:{account}``."""
        return f"arn:{PARTITION}:states:{self.region}:{self.account}"


_RESOURCE_TYPES = ("stateMachine", "execution", "express", "mapRun")


def parse_arn(arn: str, max_length: int = MAX_ARN_LENGTH) -> ParsedArn:
    """Split a Step Functions ARN.

    Raises:
        InvalidArn: not ``arn:aws:states:{region}:{account}:{type}:{resource}``.
    """
    if not isinstance(arn, str) or not arn:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    if len(arn) > max_length:
        raise InvalidArn(f"Invalid Arn: 'Resource name too long: {arn}'")
    parts = arn.split(":", 6)
    if len(parts) < 7 or parts[0] != "arn" or parts[1] != PARTITION or parts[2] != "states":
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    _, _, _, region, account, resource_type, resource = parts
    if not region or not account or resource_type not in _RESOURCE_TYPES or not resource:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {resource_type}'")
    return ParsedArn(region, account, resource_type, resource)


def _wrong_type(parsed: ParsedArn) -> InvalidArn:
    return InvalidArn(
        f"Invalid Arn: 'Resource type not valid in this context: {parsed.resource_type}'"
    )


def state_machine_arn(region: str, account: str, name: str) -> str:
    """The ARN of state machine ``name``."""
    return f"arn:{PARTITION}:states:{region}:{account}:stateMachine:{name}"


@dataclass(frozen=True, slots=True)
class StateMachineRef:
    """A parsed (possibly labelled) state machine ARN.

    Attributes:
        arn: the base state machine ARN (label removed).
        name: the state machine name.
        label: the Distributed Map label of a labelled ARN, else ``None``.
    """

    arn: str
    name: str
    label: str | None


def parse_state_machine_arn(arn: str) -> StateMachineRef:
    """Parse a state machine ARN, labelled or not.

    Raises:
        InvalidArn: not a state machine ARN.
    """
    parsed = parse_arn(arn)
    if parsed.resource_type != "stateMachine":
        raise _wrong_type(parsed)
    if ":" in parsed.resource:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    name, _, label = parsed.resource.partition("/")
    if not name:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return StateMachineRef(f"{parsed.prefix}:stateMachine:{name}", name, label or None)


@dataclass(frozen=True, slots=True)
class ExecutionRef:
    """A parsed execution ARN.

    Attributes:
        arn: the execution ARN as given.
        state_machine_arn: the ARN of the state machine it runs (labelled for Map Run children).
        base_state_machine_arn: the unlabelled state machine ARN.
        name: the execution name.
        label: the Distributed Map label for a Map Run child, else ``None``.
    """

    arn: str
    state_machine_arn: str
    base_state_machine_arn: str
    name: str
    label: str | None

    @property
    def region(self) -> str:
        """The region part."""
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        """The account part."""
        return self.arn.split(":")[4]

    @property
    def machine(self) -> str:
        """The state machine part: ``{name}``, or ``{name}/{label}`` for a Map Run child."""
        return self.state_machine_arn.split(":stateMachine:", 1)[1]

    @property
    def is_map_run_child(self) -> bool:
        """Whether this is a child execution of a Map Run (its machine part has a label)."""
        return self.label is not None


def execution_arn(state_machine: str, name: str) -> str:
    """The ARN of execution ``name`` of ``state_machine`` (an unlabelled or labelled ARN)."""
    return state_machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def parse_execution_arn(arn: str) -> ExecutionRef:
    """Parse a parent or child execution ARN.

    Raises:
        InvalidArn: not an execution ARN.
    """
    parsed = parse_arn(arn)
    if parsed.resource_type not in ("execution", "express"):
        raise _wrong_type(parsed)
    machine, sep, name = parsed.resource.partition(":")
    if not sep or not machine or not name:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    base, _, label = machine.partition("/")
    if not base:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return ExecutionRef(
        arn=arn,
        state_machine_arn=f"{parsed.prefix}:stateMachine:{machine}",
        base_state_machine_arn=f"{parsed.prefix}:stateMachine:{base}",
        name=name,
        label=label or None,
    )


def parse_map_run_arn(arn: str) -> ParsedArn:
    """Check that ``arn`` is a Map Run ARN (``mapRun:{name}/{label}:{id}``).

    Raises:
        InvalidArn: not a Map Run ARN.
    """
    parsed = parse_arn(arn, MAX_LONG_ARN_LENGTH)
    if parsed.resource_type != "mapRun":
        raise _wrong_type(parsed)
    machine, sep, run_id = parsed.resource.partition(":")
    if not sep or "/" not in machine or not run_id:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return parsed

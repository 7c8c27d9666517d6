"""State classes of the model (spec 5.2), one per ASL state type except Map (map.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orchestrator.asl.model.io import DEFAULT_IO, StateIO
from orchestrator.asl.model.retry_catch import Catcher, Retrier

if TYPE_CHECKING:
    from orchestrator.asl._choice import ChoiceRule
    from orchestrator.asl._jsonata import JsonataCondition, JsonataTemplate
    from orchestrator.asl._intrinsics import Intrinsic
    from orchestrator.asl._paths import JsonPath
    from orchestrator.asl._template import Template
    from orchestrator.asl.model.machine import StateMachine

JSONPATH = "JSONPath"
JSONATA = "JSONata"


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields common to every state: its name, type, transition and I/O processing.

    ``next`` is the following state's name; ``end`` marks a terminal state. ``query_language``
    is the state's effective QueryLanguage (only JSONPath runs today). ``assign`` is the
    compiled JSONPath ``Assign`` template (spec 5.6): the variables it yields are set when the
    state completes and are visible from the next state.
    """

    name: str
    type: str
    next: str | None = None
    end: bool = False
    comment: str | None = None
    query_language: str = JSONPATH
    io: StateIO = DEFAULT_IO
    assign: Template | JsonataTemplate | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(State):
    """Pass: the result is ``Result`` when given, else the (Parameters-processed) input."""

    result: Any = None
    has_result: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(State):
    """Task: invokes ``Resource`` through the TaskInvoker port, with Retry and Catch.

    TimeoutSeconds/HeartbeatSeconds (or their ``...Path`` forms, resolved at run time) are
    passed in the TaskRequest; the invoker reports timeouts as ``States.Timeout`` /
    ``States.HeartbeatTimeout``.
    """

    resource: str
    timeout_seconds: int | JsonataTemplate | None = None
    timeout_seconds_path: JsonPath | None = None
    heartbeat_seconds: int | JsonataTemplate | None = None
    heartbeat_seconds_path: JsonPath | None = None
    credentials: Template | JsonataTemplate | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True)
class ChoiceBranch:
    """One top-level Choice rule, the state it leads to, and its own ``Assign`` (applied
    after the state's Assign when this rule matches)."""

    rule: ChoiceRule | JsonataCondition
    next: str
    assign: Template | JsonataTemplate | None = None
    output: JsonataTemplate | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(State):
    """Choice: the first matching rule's Next wins; else Default; else States.NoChoiceMatched."""

    choices: tuple[ChoiceBranch, ...]
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(State):
    """Wait: exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; waits via the Clock."""

    seconds: int | JsonataTemplate | None = None
    timestamp: datetime | JsonataTemplate | None = None
    seconds_path: JsonPath | None = None
    timestamp_path: JsonPath | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(State):
    """Succeed: ends the (sub-)machine successfully with its processed input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(State):
    """Fail: ends the (sub-)machine with Error/Cause (static, or ErrorPath/CausePath)."""

    error: str | JsonataTemplate | None = None
    cause: str | JsonataTemplate | None = None
    error_path: JsonPath | Intrinsic | None = None
    cause_path: JsonPath | Intrinsic | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(State):
    """Parallel: each branch gets the same input; the result is the branch outputs in order;
    a failing branch fails the state with the branch's own error."""

    branches: tuple[StateMachine, ...]
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()

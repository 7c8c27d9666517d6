"""TestState's wrapper machine: the state under test, alone, runnable by the engine.

The state is copied into a small state machine that the ordinary engine runs:

- every transition it names (``Next``, Choice rules and ``Default``, Catch ``Next``) points at
  a placeholder Pass state, so the run stops right after the state and the placeholder that
  was entered names ``nextState``;
- the given ``variables`` are assigned by a Pass state run first (literal ``Assign``);
- a Task keeps its fields but calls a stand-in Lambda function whose answer is the mock;
  a Map or Parallel (only with a mock) becomes such a Task with the same input/output fields;
- ``Retry`` is taken off: TestState decides a retry itself (``RETRIABLE``) and never waits.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.executions import jsontext
from orchestrator.executions.errors import InvalidDefinition, ValidationException

STAND_IN = "arn:aws:lambda:us-east-1:000000000000:function:stepmap-teststate"
VARIABLES_STATE = "stepmap.variables"
PLACEHOLDER = "stepmap.next.{}"
DEFAULT_NAME = "TestState"
#: Fields a Map or Parallel shares with a Task (the rest describe iterations or branches).
TASK_LIKE_FIELDS = (
    "Type", "Comment", "InputPath", "OutputPath", "ResultPath", "ResultSelector", "Catch",
    "Assign", "Next", "End",
)
_NOT_RETRIED = ("States.Runtime",)


@dataclass
class Wrapper:
    """The wrapper machine and what is needed to read its run back.

    Attributes:
        name: the name of the state under test.
        state: the state as given.
        definition: the wrapper state machine (a dict).
        targets: placeholder name -> the real state name it stands for.
    """

    name: str
    state: dict[str, Any]
    definition: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)


def pick_state(text: str, state_name: str | None) -> tuple[str, dict[str, Any]]:
    """(name, state) from ``definition``: a whole machine with ``stateName``, else one state."""
    try:
        document = jsontext.loads(text)  # strict and depth-bounded, like every definition
    except jsontext.JsonRefused as exc:
        raise InvalidDefinition(
            f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'"
        ) from None
    if not isinstance(document, dict):
        raise InvalidDefinition("Invalid State Machine Definition: the definition is not an object")
    if state_name is None:
        if "Type" not in document:
            raise InvalidDefinition(
                "Invalid State Machine Definition: without stateName the definition must be "
                "one state (an object with Type)"
            )
        return DEFAULT_NAME, document
    states = document.get("States")
    if not isinstance(states, dict) or not isinstance(states.get(state_name), dict):
        raise ValidationException(
            f"stateName '{state_name}' names no state of the definition's States"
        )
    return state_name, states[state_name]


def _retarget(state: dict[str, Any], wrapper: Wrapper, taken: set[str]) -> None:
    """Point every transition of ``state`` at a placeholder (same target, same placeholder)."""
    by_target: dict[str, str] = {}

    def placeholder(target: Any) -> Any:
        if not isinstance(target, str):
            return target
        if target not in by_target:
            number = len(by_target)
            while PLACEHOLDER.format(number) in taken:
                number += 1
            by_target[target] = PLACEHOLDER.format(number)
            wrapper.targets[by_target[target]] = target
        return by_target[target]

    if "Next" in state:
        state["Next"] = placeholder(state["Next"])
    if "Default" in state:
        state["Default"] = placeholder(state["Default"])
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = placeholder(rule["Next"])
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and "Next" in catcher:
            catcher["Next"] = placeholder(catcher["Next"])


def _runnable(state: dict[str, Any], mocked: bool) -> dict[str, Any]:
    """The state as the wrapper runs it (Task stand-in, Map/Parallel as a Task, no Retry)."""
    kind = state.get("Type")
    if kind in ("Task", "Map", "Parallel") and not mocked:
        raise ValidationException(
            f"TestState runs a {kind} state only with a mock (result or errorOutput): stepmap "
            "does not call the resource or run iterations or branches from TestState"
        )
    if kind in ("Map", "Parallel"):
        state = {k: v for k, v in state.items() if k in TASK_LIKE_FIELDS}
        state["Type"] = "Task"
    if state.get("Type") == "Task":
        state = {k: v for k, v in state.items() if not k.startswith(("Resource", "Credentials"))}
        state["Resource"] = STAND_IN
        for name in ("TimeoutSecondsPath", "HeartbeatSecondsPath"):
            state.pop(name, None)
    state.pop("Retry", None)
    return state


def _literal(value: Any, where: str) -> Any:
    """Refuse variable values that ``Assign`` would read as paths (keys ending in ``.$``)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).endswith(".$"):
                raise ValidationException(
                    f"variables: the key '{key}' in '{where}' ends in '.$'; stepmap's TestState "
                    "cannot assign such a value"
                )
            _literal(inner, where)
    elif isinstance(value, list):
        for inner in value:
            _literal(inner, where)
    return value


def build(name: str, state: dict[str, Any], variables: Mapping[str, Any] | None,
          mocked: bool) -> Wrapper:
    """The wrapper machine of ``state`` (see the module docstring)."""
    wrapper = Wrapper(name, state)
    run = _runnable(copy.deepcopy(state), mocked)
    taken = {name, VARIABLES_STATE}
    _retarget(run, wrapper, taken)
    states: dict[str, Any] = {name: run}
    for placeholder in wrapper.targets:
        states[placeholder] = {"Type": "Pass", "End": True}
    start = name
    if variables:
        states[VARIABLES_STATE] = {
            "Type": "Pass", "Next": name,
            "Assign": {key: _literal(value, key) for key, value in variables.items()},
        }
        start = VARIABLES_STATE
    wrapper.definition = {"StartAt": start, "States": states}
    return wrapper


def matches(equals: Any, error: str) -> bool:
    """Whether an ``ErrorEquals`` list matches ``error`` (the engine's rules)."""
    names = equals if isinstance(equals, list) else []
    if error in names:
        return True
    if error in _NOT_RETRIED or error == "States.DataLimitExceeded":
        return False
    if "States.ALL" in names:
        return True
    return "States.TaskFailed" in names and error != "States.Timeout"


def retry_decision(state: Mapping[str, Any], error: str, retry_count: int) -> tuple[int, int] | None:
    """(retrier index, backoff seconds) when a Retry of ``state`` retries ``error`` now."""
    if error in _NOT_RETRIED:
        return None
    for index, retrier in enumerate(state.get("Retry") or []):
        if not isinstance(retrier, dict) or not matches(retrier.get("ErrorEquals"), error):
            continue
        if retry_count >= int(retrier.get("MaxAttempts", 3)):
            return None
        delay = float(retrier.get("IntervalSeconds", 1)) * float(
            retrier.get("BackoffRate", 2.0)
        ) ** retry_count
        if "MaxDelaySeconds" in retrier:
            delay = min(delay, float(retrier["MaxDelaySeconds"]))
        return index, int(delay)
    return None


def catch_index(state: Mapping[str, Any], error: str) -> int | None:
    """The index of the Catch of ``state`` that handles ``error``."""
    if error in _NOT_RETRIED:
        return None
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and matches(catcher.get("ErrorEquals"), error):
            return index
    return None

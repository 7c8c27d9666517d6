"""What stepmap can run, checked at create: problems the engine's AWS validation does not raise.

The ASL engine answers "would AWS accept this definition?". A definition AWS accepts may still
use something stepmap cannot run; such a definition is refused at CreateStateMachine and
ValidateStateMachineDefinition with an ``UNSUPPORTED_FEATURE`` problem naming the field,
rather than stored and failed at run time (docs/decisions.md). Also here: the definition text
must be strict JSON (:mod:`orchestrator.executions.jsontext`) holding an object, which the
engine's own parser does not insist on (``null`` passes it).

Supported Task resources are those ``workers/invoker.py`` runs: ``arn:aws:states:::lambda:invoke``,
its callback form ``arn:aws:states:::lambda:invoke.waitForTaskToken`` (the Task waits for
SendTaskSuccess/Failure, ``orchestrator/control/callbacks.py``) and Lambda function ARNs; and
activity ARNs (``arn:aws:states:<region>:<account>:activity:<name>``), whose work external
workers take with GetActivityTask. ``.sync`` is not implemented. Item readers: every ``InputType``; ``PARQUET`` only where pyarrow is installed
(the ``parquet`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.executions import jsontext
from orchestrator.messages import is_activity_resource, waits_for_answer
from orchestrator.readers import parquet_readable

UNSUPPORTED = "UNSUPPORTED_FEATURE"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_CALLBACK = LAMBDA_INVOKE + ".waitForTaskToken"
_LAMBDA_FUNCTION = re.compile(r"arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?")


@dataclass(frozen=True, slots=True)
class Problem:
    """One definition problem, shaped like the engine's ``DefinitionProblem``."""

    path: str
    code: str
    message: str


def parse_problems(text: str) -> tuple[Any, list[Problem]]:
    """The definition as a value, or the problems that make it unusable as JSON text."""
    try:
        value = jsontext.loads(text)
    except jsontext.JsonRefused as exc:
        return None, [Problem(exc.where, "INVALID_JSON_DESCRIPTION",
                              f"The definition is not acceptable JSON: {exc.problem}")]
    if not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        return None, [Problem("", "SCHEMA_VALIDATION_FAILED",
                              f"The definition must be a JSON object, got {kind}")]
    return value, []


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _states(scope: Any, path: str,
            express: bool = False) -> Iterator[tuple[str, str, Mapping[str, Any], bool]]:
    """Every state of a scope and its nested scopes: (name, JSON Pointer, state, in EXPRESS).

    ``express``: the state runs in an EXPRESS execution (the machine's type, or the children
    of a Distributed Map with ``ExecutionType: EXPRESS``).
    """
    if not isinstance(scope, Mapping) or not isinstance(scope.get("States"), Mapping):
        return
    for name, state in scope["States"].items():
        if not isinstance(state, Mapping):
            continue
        here = f"{path}/States/{_escape(str(name))}"
        yield str(name), here, state, express
        branches = state.get("Branches")
        if isinstance(branches, list):
            for i, branch in enumerate(branches):
                yield from _states(branch, f"{here}/Branches/{i}", express)
        for key in ("ItemProcessor", "Iterator"):
            inner = state.get(key)
            config = inner.get("ProcessorConfig") if isinstance(inner, Mapping) else None
            child_express = express or (isinstance(config, Mapping)
                                        and config.get("ExecutionType") == "EXPRESS")
            yield from _states(inner, f"{here}/{key}", child_express)


def task_resource_supported(resource: str) -> bool:
    """Whether a stepmap worker can run a Task with this ``Resource``."""
    return (resource in (LAMBDA_INVOKE, LAMBDA_CALLBACK)
            or _LAMBDA_FUNCTION.fullmatch(resource) is not None
            or is_activity_resource(resource))


def unsupported_problems(definition: Mapping[str, Any],
                         machine_type: str = "STANDARD") -> list[Problem]:
    """``UNSUPPORTED_FEATURE`` problems of a definition the engine found valid."""
    problems: list[Problem] = []
    for name, path, state, express in _states(definition, "", machine_type == "EXPRESS"):
        kind = state.get("Type")
        resource = state.get("Resource")
        if (kind == "Task" and isinstance(resource, str) and express
                and waits_for_answer(resource) and task_resource_supported(resource)):
            problems.append(Problem(
                f"{path}/Resource", UNSUPPORTED,
                f"Task '{name}' uses Resource '{resource}', which waits for a task token: "
                "EXPRESS executions do not support .waitForTaskToken or activities "
                "(use STANDARD)"))
        elif kind == "Task" and isinstance(resource, str) and not task_resource_supported(resource):
            hint = (" (the .sync integration pattern is not implemented)"
                    if resource.startswith(LAMBDA_INVOKE) else "")
            problems.append(Problem(
                f"{path}/Resource", UNSUPPORTED,
                f"Task '{name}' uses Resource '{resource}', which stepmap workers cannot run"
                f"{hint}; expected '{LAMBDA_INVOKE}', '{LAMBDA_CALLBACK}', a Lambda function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>) or an activity ARN "
                "(arn:aws:states:<region>:<account>:activity:<name>)"))
        reader = state.get("ItemReader") if kind == "Map" else None
        config = reader.get("ReaderConfig") if isinstance(reader, Mapping) else None
        input_type = config.get("InputType") if isinstance(config, Mapping) else None
        if input_type == "PARQUET" and not parquet_readable():
            problems.append(Problem(
                f"{path}/ItemReader/ReaderConfig/InputType", UNSUPPORTED,
                f"Map '{name}' reads InputType 'PARQUET', which needs pyarrow: install the "
                "'parquet' extra of stepmap (pip install 'stepmap[parquet]')"))
    return problems

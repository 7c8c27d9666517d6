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
workers take with GetActivityTask. The integrations of ``settings.integrations``
(:mod:`orchestrator.resources`) are accepted only where enabled: ``states:startExecution``
(plain, ``.sync``, ``.sync:2``; STANDARD executions only), ``http:invoke`` (a static
``ApiEndpoint`` must name an allowed host, a static ``Method`` a known method, a static
``ConnectionArn`` a configured connection) and ``aws-sdk:s3:<action>`` (the actions of
``resources.S3_ACTIONS``). Every other resource is refused (:func:`resource_problem`; the table
test ``tests/unit/executions/test_resource_audit.py``). Item readers: every ``InputType``;
``PARQUET`` only where pyarrow is installed (the ``parquet`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator import resources
from orchestrator.executions import jsontext
from orchestrator.messages import is_activity_resource, waits_for_answer
from orchestrator.readers import parquet_readable
from orchestrator.settings import IntegrationsSettings

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


def _handler_resource(resource: str) -> bool:
    return (resource in (LAMBDA_INVOKE, LAMBDA_CALLBACK)
            or _LAMBDA_FUNCTION.fullmatch(resource) is not None
            or is_activity_resource(resource))


def _refused(name: str, resource: str, why: str) -> str:
    return f"Task '{name}' uses Resource '{resource}', {why}"


def _enable(variable: str) -> str:
    return f"which is not enabled on this stepmap (set STEPMAP_INTEGRATIONS__{variable}=true)"


def _static(arguments: Any, field: str) -> tuple[bool, Any]:
    """(True, value) when a Parameters/Arguments field is a constant, else (False, None)."""
    if not isinstance(arguments, Mapping) or field not in arguments:
        return False, None
    value = arguments[field]
    if isinstance(value, str) and value.strip().startswith("{%"):
        return False, None  # a JSONata expression
    return True, value


def _http_problems(name: str, path: str, state: Mapping[str, Any],
                   settings: IntegrationsSettings) -> list[Problem]:
    """Constant fields of an HTTP Task that could never run here: host, method, connection."""
    key = "Arguments" if "Arguments" in state else "Parameters"
    arguments = state.get(key)
    problems: list[Problem] = []
    known, endpoint = _static(arguments, "ApiEndpoint")
    refusal = resources.host_refusal(endpoint, settings.http_allowed_hosts) if known else None
    if refusal is not None:
        problems.append(Problem(f"{path}/{key}/ApiEndpoint", UNSUPPORTED,
                                f"HTTP Task '{name}': {refusal}"))
    known, method = _static(arguments, "Method")
    if known and (not isinstance(method, str) or method.upper() not in resources.HTTP_METHODS):
        problems.append(Problem(f"{path}/{key}/Method", UNSUPPORTED,
                                f"HTTP Task '{name}': Method {method!r} is not one of "
                                f"{', '.join(resources.HTTP_METHODS)}"))
    known, auth = _static(arguments, "Authentication")
    connection = auth.get("ConnectionArn") if known and isinstance(auth, Mapping) else None
    configured = {c.connection_arn for c in settings.http_connections}
    if isinstance(connection, str) and connection not in configured:
        problems.append(Problem(f"{path}/{key}/Authentication/ConnectionArn", UNSUPPORTED,
                                f"HTTP Task '{name}': connection '{connection}' is not in "
                                "integrations.http_connections"))
    return problems


def resource_problem(name: str, resource: str, *, express: bool,
                     settings: IntegrationsSettings) -> str | None:
    """Why stepmap cannot run a Task with this ``Resource`` here, or None when it can."""
    pattern = resources.start_execution_pattern(resource)
    if pattern is not None:
        if pattern not in resources.START_EXECUTION_PATTERNS:
            return _refused(name, resource, f"whose integration pattern '{pattern}' stepmap does "
                            "not run (states:startExecution runs plain, .sync and .sync:2)")
        if not settings.start_execution:
            return _refused(name, resource, _enable("START_EXECUTION"))
        if express:
            return _refused(name, resource, "which stepmap runs only in STANDARD executions "
                            "(EXPRESS executions do not support .sync on AWS either)")
        return None
    if resource.startswith(resources.HTTP_INVOKE):
        if resource != resources.HTTP_INVOKE:
            return _refused(name, resource, "whose integration pattern stepmap does not run "
                            f"(only request-response: '{resources.HTTP_INVOKE}')")
        return None if settings.http_invoke else _refused(name, resource, _enable("HTTP_INVOKE"))
    action = resources.s3_action(resource)
    if action is not None:
        if action not in resources.S3_ACTIONS:
            return _refused(name, resource, f"an S3 action stepmap does not run (it runs "
                            f"{', '.join(resources.S3_ACTIONS)}, request-response only)")
        return None if settings.s3_sdk else _refused(name, resource, _enable("S3_SDK"))
    if _handler_resource(resource):
        if express and waits_for_answer(resource):
            return _refused(name, resource, "which waits for a task token: EXPRESS executions "
                            "do not support .waitForTaskToken or activities (use STANDARD)")
        return None
    hint = (" (the .sync integration pattern is not implemented)"
            if resource.startswith(LAMBDA_INVOKE) else "")
    return _refused(
        name, resource, f"which stepmap workers cannot run{hint}; expected '{LAMBDA_INVOKE}', "
        f"'{LAMBDA_CALLBACK}', a Lambda function ARN "
        "(arn:aws:lambda:<region>:<account>:function:<name>), an activity ARN "
        "(arn:aws:states:<region>:<account>:activity:<name>), or an integration enabled in "
        f"settings ('{resources.START_EXECUTION}[.sync|.sync:2]', '{resources.HTTP_INVOKE}', "
        f"'{resources.S3_SDK_PREFIX}<action>')")


def unsupported_problems(definition: Mapping[str, Any], machine_type: str = "STANDARD",
                         integrations: IntegrationsSettings | None = None) -> list[Problem]:
    """``UNSUPPORTED_FEATURE`` problems of a definition the engine found valid.

    ``integrations``: what this stepmap has enabled (None: nothing beyond handlers).
    """
    settings = integrations if integrations is not None else IntegrationsSettings()
    problems: list[Problem] = []
    for name, path, state, express in _states(definition, "", machine_type == "EXPRESS"):
        kind = state.get("Type")
        resource = state.get("Resource")
        if kind == "Task" and isinstance(resource, str):
            why = resource_problem(name, resource, express=express, settings=settings)
            if why is not None:
                problems.append(Problem(f"{path}/Resource", UNSUPPORTED, why))
            elif resource == resources.HTTP_INVOKE:
                problems.extend(_http_problems(name, path, state, settings))
        reader = state.get("ItemReader") if kind == "Map" else None
        config = reader.get("ReaderConfig") if isinstance(reader, Mapping) else None
        input_type = config.get("InputType") if isinstance(config, Mapping) else None
        if input_type == "PARQUET" and not parquet_readable():
            problems.append(Problem(
                f"{path}/ItemReader/ReaderConfig/InputType", UNSUPPORTED,
                f"Map '{name}' reads InputType 'PARQUET', which needs pyarrow: install the "
                "'parquet' extra of stepmap (pip install 'stepmap[parquet]')"))
    return problems

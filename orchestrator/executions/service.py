"""The Step Functions operations: one method per API operation, AWS-shaped dicts in and out.

Both HTTP faces (AWS JSON 1.0 and the /v1 resource API) call :class:`StepFunctionsService`.
Parent executions live in the :class:`~orchestrator.store.base.StateStore`; Map Runs and their
child executions belong to the Map Run coordinator, reached through :class:`MapRunApi`. The
control plane learns about starts, stops and redrives through :class:`Publisher`.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from orchestrator.executions import (
    arns, family, jsontext, params, qualified, runnable, starts, tagging, views,
)
from orchestrator.executions.aliases import AliasesMixin
from orchestrator.executions.callbacks import CallbacksMixin
from orchestrator.executions.deletion import finish_deleting, has_running_executions
from orchestrator.executions.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    ResourceNotFound,
    StateMachineAlreadyExists,
    StateMachineDeleting,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    ValidationException,
    validation_message,
)
from orchestrator.executions.binding import REQUEST_FIELD
from orchestrator.executions.limits import LimitsApi, LimitsMixin
from orchestrator.executions.map_run_control import MapRunControlMixin
from orchestrator.executions.pagination import PageTokens
from orchestrator.executions.sync import SyncMixin
from orchestrator.executions.tagging import TaggingMixin
from orchestrator.executions.teststate import StateTestingMixin
from orchestrator.executions.versions import VersionsMixin, configuration_fields, publish_flags
from orchestrator.settings import IntegrationsSettings, Settings
from orchestrator.statuses import UNSUCCESSFUL, ExecutionStatus
from orchestrator.store.base import Cursor, StateStore
from orchestrator.store.callbacks import CallbackStore

Request = Mapping[str, Any]
Response = dict[str, Any]
Validator = Callable[..., list[Any]]

MACHINE_TYPES = ("STANDARD", "EXPRESS")
EXECUTION_STATUSES = tuple(s.value for s in ExecutionStatus)
REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")
MAX_DEFINITION_BYTES = 1_048_576
REDRIVABLE_STATUSES = frozenset(s.value for s in UNSUCCESSFUL)
REDRIVE_PERIOD_SECONDS = 14 * 24 * 3600
MAX_HISTORY_EVENTS_FOR_REDRIVE = 24_999


class Publisher(Protocol):
    """Tells the control plane what to do with an execution (asynchronously)."""

    def advance_execution(self, execution_arn: str) -> None: ...

    def stop_execution(self, execution_arn: str) -> None: ...

    def redrive_execution(self, execution_arn: str) -> None: ...


class MapRunApi(Protocol):
    """Map Runs and their child executions (implemented in ``orchestrator.maprun.api``).

    Methods raise the errors of :mod:`orchestrator.executions.errors`; dicts are AWS-shaped.
    ``max_results`` arrives already normalised (1..1000).
    """

    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]: ...

    def list_map_runs(
        self, execution_arn: str, max_results: int, next_token: str | None
    ) -> dict[str, Any]: ...

    def update_map_run(
        self,
        map_run_arn: str,
        max_concurrency: int | None,
        tolerated_failure_percentage: float | None,
        tolerated_failure_count: int | None,
    ) -> None: ...

    def list_children(
        self,
        map_run_arn: str,
        status_filter: str | None,
        redrive_filter: str | None,
        max_results: int,
        next_token: str | None,
    ) -> dict[str, Any]: ...

    def describe_child(self, execution_arn: str) -> dict[str, Any] | None: ...

    def child_history(
        self,
        execution_arn: str,
        max_results: int,
        reverse_order: bool,
        next_token: str | None,
        include_execution_data: bool,
    ) -> dict[str, Any] | None: ...

    def abort_for_execution(self, execution_arn: str) -> None: ...


def _default_validator(definition: str, *, machine_type: str,
                       integrations: IntegrationsSettings | None = None) -> list[Any]:
    """AWS's verdict on the definition, then whether stepmap can run it.

    The definition is also parsed, so what only compiling finds (a JSONata expression that
    does not parse, a feature stepmap does not run) is refused by CreateStateMachine and
    ValidateStateMachineDefinition alike rather than stored and failed at run time.
    """
    # Imported lazily: the engine is only needed when a definition is checked.
    from orchestrator.asl import InvalidDefinition, parse_definition, validate_definition

    problems: list[Any] = list(validate_definition(definition, machine_type=machine_type))
    if not problems:
        try:
            parse_definition(definition, machine_type=machine_type)
        except InvalidDefinition as exc:
            problems = list(exc.problems)
    if not problems:
        # What stepmap's workers and readers cannot run (runnable.py's docstring).
        problems = list(runnable.unsupported_problems(json.loads(definition), machine_type,
                                                      integrations))
    return problems


def problem_text(problem: Any) -> str:
    """``CODE: message at /path`` (AWS's InvalidDefinition wording for one problem)."""
    text = f"{problem.code}: {problem.message}"
    if problem.code != "INVALID_JSON_DESCRIPTION":
        text += f" at {problem.path or '/'}"
    return text


def _cursor(position: Any) -> Cursor | None:
    """A store cursor from a token position (JSON turns the tuple into a list)."""
    if position is None:
        return None
    score, member = position
    return float(score), str(member)


def _problem_dict(problem: Any) -> dict[str, str]:
    return {"code": problem.code, "message": problem.message, "location": problem.path or "/"}


class StepFunctionsService(
    VersionsMixin, AliasesMixin, TaggingMixin, SyncMixin, StateTestingMixin, CallbacksMixin,
    MapRunControlMixin,
    LimitsMixin,
):
    """The Step Functions API over a store, a control-plane publisher and the Map Run API.

    Versions, aliases, tags, StartSyncExecution and TestState come from the mixins
    (``versions``, ``aliases``, ``tagging``, ``sync``, ``teststate``); task token answers and
    activities from ``callbacks`` (the task token and activity store); the stepmap extensions
    (pause, resume, admission) from ``map_run_control``.

    Args:
        store: persistence of state machines, executions, history and tokens.
        settings: region/account of ARNs and the payload limit.
        publisher: notifies the control plane of starts, stops and redrives.
        map_runs: the Map Run API; ``None`` means no Map Run exists.
        validator: ``(definition, *, machine_type) -> problems``; defaults to
            :func:`orchestrator.asl.validate_definition`.
        clock: epoch seconds (injectable for tests).
        limits: pools and Map Run rates (stepmap extensions, ``executions/limits.py``).
    """

    def __init__(
        self,
        store: StateStore,
        settings: Settings,
        publisher: Publisher,
        map_runs: MapRunApi | None = None,
        *,
        validator: Validator | None = None,
        clock: Callable[[], float] = time.time,
        callbacks: CallbackStore | None = None,
        limits: LimitsApi | None = None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.settings = settings
        self.publisher = publisher
        self.map_runs = map_runs
        self.callbacks = callbacks
        self._validate = validator or functools.partial(
            _default_validator, integrations=settings.integrations)
        self._clock = clock
        self._tokens = PageTokens(store)

    # -- state machines -------------------------------------------------------------------------

    def _problems(self, definition: str, machine_type: str) -> list[Any]:
        # Strict JSON holding an object first: the engine would accept ``null`` or crash on
        # text nested thousands deep, and a lone surrogate could never be stored.
        _, problems = runnable.parse_problems(definition)
        return problems or self._validate(definition, machine_type=machine_type)

    def _require_valid(self, definition: str, machine_type: str) -> None:
        problems = self._problems(definition, machine_type)
        if problems:
            raise InvalidDefinition(
                "Invalid State Machine Definition: "
                + ", ".join(f"'{problem_text(p)}'" for p in problems),
                [_problem_dict(p) for p in problems],
            )

    def create_state_machine(self, request: Request) -> Response:
        """CreateStateMachine: validates name and definition; idempotent for identical input."""
        name = params.required_str(request, "name")
        definition = params.required_str(request, "definition", MAX_DEFINITION_BYTES)
        role_arn = params.required_str(request, "roleArn", arns.MAX_ARN_LENGTH)
        machine_type = params.enum_str(request, "type", MACHINE_TYPES, "STANDARD") or "STANDARD"
        arns.validate_name(name)
        config = configuration_fields(request)
        publish, version_description = publish_flags(request)
        tags = tagging.checked_tags(request)
        tagging.check_count(tags, name)
        self._require_valid(definition, machine_type)
        api = self.settings.api
        arn = arns.state_machine_arn(api.region, api.account_id, name)
        record: dict[str, Any] = {
            "stateMachineArn": arn,
            "name": name,
            "definition": definition,
            "roleArn": role_arn,
            "type": machine_type,
            "status": "ACTIVE",
            "creationDate": self._clock(),
            family.REVISION_KEY: str(uuid.uuid4()),
            **config,
        }
        if tags:
            record["tags"] = tags
        if not self.store.insert_state_machine(record):
            existing = self.store.get_state_machine(arn)
            if existing is None:  # deleted in between: try once more
                return self.create_state_machine(request)
            if existing.get("status") == "DELETING":
                raise StateMachineDeleting(f"State machine is being deleted: '{arn}'")
            # Idempotent only when everything that defines the machine is the same (AWS rule).
            same = (existing["definition"], existing["roleArn"], existing["type"]) == (
                definition,
                role_arn,
                machine_type,
            )
            if not same:
                raise StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
            record = existing
        out: Response = {"stateMachineArn": arn, "creationDate": record["creationDate"]}
        if publish:
            version = self._publish(record, version_description, None)
            out["stateMachineVersionArn"] = version["stateMachineArn"]
        return out

    def _machine(self, arn: str) -> dict[str, Any]:
        record = self.store.get_state_machine(arn)
        if record is None or family.is_hidden(record):
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return record

    def describe_state_machine(self, request: Request) -> Response:
        """DescribeStateMachine; a labelled ARN describes its machine and adds ``label``."""
        given = params.required_str(request, "stateMachineArn", arns.MAX_ARN_LENGTH)
        params.enum_str(request, "includedData", ("ALL_DATA", "METADATA_ONLY"), "ALL_DATA")
        if qualified.is_qualified(given):
            version = qualified.parse(given)
            if version.version is None:
                raise InvalidArn(f"Invalid Arn: 'DescribeStateMachine takes no alias ARN: {given}'")
            return self.describe_version(version)
        ref = arns.parse_state_machine_arn(given)
        record = self._machine(ref.arn)
        out = views.state_machine_description(record)
        if record.get("revisionId"):
            out["revisionId"] = record["revisionId"]
        if ref.label is not None:
            out["stateMachineArn"] = given
            out["label"] = ref.label
        return out

    def list_state_machines(self, request: Request) -> Response:
        """ListStateMachines, oldest first."""
        size = params.page_size(request)
        token = params.optional_str(request, "nextToken", 1024)
        after = _cursor(self._tokens.resolve(token, "ListStateMachines", ""))
        items: list[dict[str, Any]] = []
        out: Response = {"stateMachines": items}
        last: Cursor | None = None
        for cursor, record in self.store.iter_state_machines(after):
            if family.is_hidden(record):
                continue
            if len(items) == size and last is not None:
                out["nextToken"] = self._tokens.issue("ListStateMachines", "", list(last))
                break
            items.append(
                {
                    "stateMachineArn": record["stateMachineArn"],
                    "name": record["name"],
                    "type": record["type"],
                    "creationDate": record["creationDate"],
                }
            )
            last = cursor
        return out

    def delete_state_machine(self, request: Request) -> Response:
        """DeleteStateMachine: gone at once, or DELETING while executions still run.

        Deleting an unknown state machine succeeds (AWS lists no ``StateMachineDoesNotExist``
        for this operation). Executions stay describable after the machine is gone.
        """
        given = params.required_str(request, "stateMachineArn", arns.MAX_ARN_LENGTH)
        if qualified.is_qualified(given):
            qualified.parse(given)
            raise ValidationException(
                "DeleteStateMachine takes an unqualified state machine ARN; delete versions with "
                f"DeleteStateMachineVersion and aliases with DeleteStateMachineAlias: '{given}'"
            )
        ref = arns.parse_state_machine_arn(given)
        if ref.label is not None:
            raise ValidationException(
                "This operation does not support labelled state machine ARNs",
                reason="API_DOES_NOT_SUPPORT_LABELED_ARNS",
            )
        existing = self.store.get_state_machine(ref.arn)
        if existing is None or family.is_hidden(existing):
            return {}
        running = has_running_executions(self.store, ref.arn)
        family.delete_family(self.store, ref.arn, keep_snapshots=running)
        if running:
            # Removed when the last execution ends (orchestrator/executions/deletion.py).
            self.store.update_state_machine(ref.arn, {"status": "DELETING"})
            finish_deleting(self.store, ref.arn)  # in case the last one ended meanwhile
        else:
            self.store.delete_state_machine(ref.arn)
        return {}

    def validate_state_machine_definition(self, request: Request) -> Response:
        """ValidateStateMachineDefinition: every problem as an ERROR diagnostic."""
        definition = params.required_str(request, "definition", MAX_DEFINITION_BYTES)
        machine_type = params.enum_str(request, "type", MACHINE_TYPES, "STANDARD") or "STANDARD"
        params.enum_str(request, "severity", ("ERROR", "WARNING"), "ERROR")
        limit = params.page_size(request, maximum=100)
        diagnostics = [
            {"severity": "ERROR", "code": p.code, "message": p.message, "location": p.path or "/"}
            for p in self._problems(definition, machine_type)
        ]
        return {
            "result": "FAIL" if diagnostics else "OK",
            "diagnostics": diagnostics[:limit],
            "truncated": len(diagnostics) > limit,
        }

    # -- executions -----------------------------------------------------------------------------

    def start_execution(self, request: Request, *,
                        links: Mapping[str, Any] | None = None) -> Response:
        """StartExecution: records the execution RUNNING and asks the control plane to run it.

        ``links``: fields a nested execution's record gets from the Task that starts it
        (``orchestrator/control/nested.py``).
        """
        given = params.required_str(request, "stateMachineArn", arns.MAX_ARN_LENGTH)
        if qualified.is_qualified(given):
            qualified.parse(given)
        else:
            arns.parse_state_machine_arn(given)
        name = params.optional_str(request, "name")
        name = str(uuid.uuid4()) if name is None else name
        arns.validate_name(name)
        text = params.optional_str(request, "input", min_length=0)
        text = "{}" if text is None else text
        limit = self.settings.limits.payload_bytes
        if len(text.encode("utf-8")) > limit:
            raise ValidationException(
                validation_message(
                    "Value at 'input' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {limit}"
                )
            )
        try:
            jsontext.loads(text)
        except jsontext.JsonRefused as exc:
            raise InvalidExecutionInput(
                f"Invalid State Machine Execution Input: '{exc}' (field 'input')"
            ) from None
        trace_header = params.optional_str(request, "traceHeader", 256, min_length=0)
        binding = self.stepmap_binding(request)  # a stepmap extension (docs/limits.md)
        target = starts.resolve(self.store, given, self._machine)
        machine = target.machine
        arn = arns.execution_arn(machine["stateMachineArn"], name)
        record: dict[str, Any] = {
            **target.execution_fields(self.store),
            "executionArn": arn,
            "name": name,
            "status": ExecutionStatus.RUNNING.value,
            "startDate": self._clock(),
            "input": text,
            "redriveCount": 0,
            views.MACHINE_TYPE_FIELD: machine["type"],
            "traceHeader": trace_header,
            **(links or {}),
        }
        if binding is not None:
            record[REQUEST_FIELD] = binding
        if not self.store.insert_execution(record):
            existing = self.store.get_execution(arn)
            # AWS: idempotent while the first one runs with the same input.
            if existing and existing.get("status") == ExecutionStatus.RUNNING \
                    and existing.get("input") == text:
                return {"executionArn": arn, "startDate": existing["startDate"]}
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        try:
            self.publisher.advance_execution(arn)
        except Exception as exc:
            # The broker is unreachable: fail the execution rather than leave it RUNNING with
            # nobody to run it, and answer with an internal failure (the caller may retry
            # under another name).
            failure = {"error": "States.Runtime",
                       "cause": f"The execution could not be handed to the control plane: {exc}"}
            now = self._clock()
            self.store.transition_execution(
                arn, {ExecutionStatus.RUNNING.value},
                {"status": ExecutionStatus.FAILED.value, "stopDate": now, **failure},
                event={"timestamp": now, "type": "ExecutionFailed",
                       "executionFailedEventDetails": failure})
            raise
        return {"executionArn": arn, "startDate": record["startDate"]}

    def _execution(self, arn: str) -> dict[str, Any]:
        record = self.store.get_execution(arn)
        if record is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return record

    def _child(self, arn: str) -> dict[str, Any]:
        child = self.map_runs.describe_child(arn) if self.map_runs is not None else None
        if child is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return child

    def describe_execution(self, request: Request) -> Response:
        """DescribeExecution of a parent (store) or a Map Run child (Map Run API)."""
        arn = params.required_str(request, "executionArn", arns.MAX_ARN_LENGTH)
        included = params.enum_str(
            request, "includedData", ("ALL_DATA", "METADATA_ONLY"), "ALL_DATA"
        )
        ref = arns.parse_execution_arn(arn)
        if ref.is_map_run_child:
            return self._child(arn)
        return views.describe_execution(self._execution(arn), include_data=included == "ALL_DATA")

    def stop_execution(self, request: Request) -> Response:
        """StopExecution: ABORTED with an ExecutionAborted event, only while RUNNING.

        Stopping a finished execution changes nothing and returns its stopDate (decision,
        unverified against AWS).
        """
        arn = params.required_str(request, "executionArn", arns.MAX_ARN_LENGTH)
        error = params.optional_str(request, "error", 256, min_length=0)
        cause = params.optional_str(request, "cause", 32768, min_length=0)
        ref = arns.parse_execution_arn(arn)
        if ref.is_map_run_child:
            self._child(arn)
            raise ValidationException(
                "Child executions of a Map Run are stopped through their parent execution"
            )
        record = self._execution(arn)
        now = self._clock()
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
        event: dict[str, Any] = {"timestamp": now, "type": "ExecutionAborted"}
        if details:
            event["executionAbortedEventDetails"] = details
        fields = {"status": ExecutionStatus.ABORTED.value, "stopDate": now, "error": error,
                  "cause": cause}
        updated = self.store.transition_execution(arn, {ExecutionStatus.RUNNING.value}, fields,
                                                  event=event)
        if updated is None:
            record = self._execution(arn)
            return {"stopDate": record.get("stopDate", now)}
        self.publisher.stop_execution(arn)
        finish_deleting(self.store, record["stateMachineArn"])
        return {"stopDate": now}

    def list_executions(self, request: Request) -> Response:
        """ListExecutions of a state machine (newest first) or of a Map Run (spec 3.3)."""
        machine_arn = params.optional_str(request, "stateMachineArn", arns.MAX_ARN_LENGTH)
        map_run_arn = params.optional_str(request, "mapRunArn", arns.MAX_LONG_ARN_LENGTH)
        status = params.enum_str(request, "statusFilter", EXECUTION_STATUSES)
        redrive = params.enum_str(request, "redriveFilter", REDRIVE_FILTERS)
        size = params.page_size(request)
        token = params.optional_str(request, "nextToken", 3096)
        if (machine_arn is None) == (map_run_arn is None):
            raise ValidationException(
                "Must provide a StateMachine ARN or a MapRun ARN, but not both"
            )
        if map_run_arn is not None:
            arns.parse_map_run_arn(map_run_arn)
            if self.map_runs is None:
                raise ResourceNotFound(f"Resource not found: '{map_run_arn}'")
            inner = self._tokens.resolve(token, "ListExecutions.mapRun", map_run_arn)
            page = self.map_runs.list_children(map_run_arn, status, redrive, size, inner)
            return self._wrap_token(page, "ListExecutions.mapRun", map_run_arn)
        assert machine_arn is not None
        if redrive is not None:
            raise ValidationException("redriveFilter can only be used with a mapRunArn")
        if status == ExecutionStatus.PENDING_REDRIVE:
            raise ValidationException(
                "statusFilter PENDING_REDRIVE can only be used with a mapRunArn"
            )
        # A version or alias ARN lists the executions started through it.
        through = qualified.parse(machine_arn) if qualified.is_qualified(machine_arn) else None
        via_field = "stateMachineAliasArn" if through and through.alias else "stateMachineVersionArn"
        ref = arns.parse_state_machine_arn(through.base_arn if through else machine_arn)
        if ref.label is not None:
            raise ValidationException(
                "This operation does not support labelled state machine ARNs",
                reason="API_DOES_NOT_SUPPORT_LABELED_ARNS",
            )
        machine = self._machine(ref.arn)
        if machine["type"] != "STANDARD":
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine"
            )
        scope = machine_arn if through else ref.arn
        after = _cursor(self._tokens.resolve(token, "ListExecutions", scope))
        items: list[dict[str, Any]] = []
        out: Response = {"executions": items}
        last: Cursor | None = None
        for cursor, record in self.store.iter_executions(ref.arn, after):
            if status is not None and record.get("status") != status:
                continue
            if through is not None and record.get(via_field) != machine_arn:
                continue
            if len(items) == size and last is not None:
                out["nextToken"] = self._tokens.issue("ListExecutions", scope, list(last))
                break
            items.append(views.execution_list_item(record))
            last = cursor
        return out

    def get_execution_history(self, request: Request) -> Response:
        """GetExecutionHistory with paging, reverse order and optional data stripping."""
        arn = params.required_str(request, "executionArn", arns.MAX_ARN_LENGTH)
        size = params.page_size(request)
        reverse = params.boolean(request, "reverseOrder", False)
        include = params.boolean(request, "includeExecutionData", True)
        token = params.optional_str(request, "nextToken", 1024)
        ref = arns.parse_execution_arn(arn)
        if ref.is_map_run_child:
            operation = "GetExecutionHistory.child" + (".reverse" if reverse else "")
            inner = self._tokens.resolve(token, operation, arn)
            page = (
                self.map_runs.child_history(arn, size, reverse, inner, include)
                if self.map_runs is not None
                else None
            )
            if page is None:
                raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
            return self._wrap_token(page, operation, arn)
        self._execution(arn)
        operation = "GetExecutionHistory.reverse" if reverse else "GetExecutionHistory"
        position = self._tokens.resolve(token, operation, arn)
        out: Response = {}
        if reverse:
            end = int(position) if position is not None else self.store.history_length(arn)
            start = max(end - size, 0)
            events = list(reversed(self.store.get_history(arn, start, end)))
            if start > 0:
                out["nextToken"] = self._tokens.issue(operation, arn, start)
        else:
            start = int(position) if position is not None else 0
            events = self.store.get_history(arn, start, start + size)
            if start + size < self.store.history_length(arn):
                out["nextToken"] = self._tokens.issue(operation, arn, start + size)
        if not include:
            events = [views.strip_execution_data(event) for event in events]
        return {"events": events, **out}

    def redrive_execution(self, request: Request) -> Response:
        """RedriveExecution of a parent (spec 3.6): RUNNING again, redriveCount + 1."""
        arn = params.required_str(request, "executionArn", arns.MAX_ARN_LENGTH)
        token = params.client_token(request)
        ref = arns.parse_execution_arn(arn)
        if ref.is_map_run_child:
            self._child(arn)
            raise ExecutionNotRedrivable(
                "Execution is a child workflow execution of a Map Run; redrive its parent execution"
            )
        record = self._execution(arn)
        if (
            token is not None
            and record.get("redriveClientToken") == token
            and "redriveDate" in record
        ):
            return {"redriveDate": record["redriveDate"]}  # same client token: idempotent
        self._check_redrivable(record)
        count = int(record.get("redriveCount", 0)) + 1
        now = self._clock()
        fields = {
            "status": ExecutionStatus.RUNNING.value,
            "redriveCount": count,
            "redriveDate": now,
            "redriveClientToken": token,
            "stopDate": None,
            "error": None,
            "cause": None,
            "output": None,
        }
        event = {
            "timestamp": now,
            "type": "ExecutionRedriven",
            "executionRedrivenEventDetails": {"redriveCount": count},
        }
        if self.store.transition_execution(arn, REDRIVABLE_STATUSES, fields, event=event) is None:
            self._check_redrivable(self._execution(arn))  # raced with another change
            raise ExecutionNotRedrivable(f"Execution cannot be redriven: '{arn}'")
        self.publisher.redrive_execution(arn)
        return {"redriveDate": now}

    def _check_redrivable(self, record: dict[str, Any]) -> None:
        if record.get(views.MACHINE_TYPE_FIELD, "STANDARD") != "STANDARD":
            raise ExecutionNotRedrivable("Execution is EXPRESS and cannot be redriven")
        status = record.get("status")
        if status not in REDRIVABLE_STATUSES:
            raise ExecutionNotRedrivable(f"Execution is {status} and cannot be redriven")
        if self._clock() - float(record.get("stopDate", self._clock())) > REDRIVE_PERIOD_SECONDS:
            raise ExecutionNotRedrivable("Execution redrivable period exceeded")
        if self.store.history_length(record["executionArn"]) >= MAX_HISTORY_EVENTS_FOR_REDRIVE:
            raise ExecutionNotRedrivable("Execution history event limit exceeded")

    def describe_state_machine_for_execution(self, request: Request) -> Response:
        """DescribeStateMachineForExecution; for a child adds ``mapRunArn`` and ``label``."""
        arn = params.required_str(request, "executionArn", arns.MAX_ARN_LENGTH)
        params.enum_str(request, "includedData", ("ALL_DATA", "METADATA_ONLY"), "ALL_DATA")
        ref = arns.parse_execution_arn(arn)
        extra: dict[str, Any] = {}
        if ref.is_map_run_child:
            child = self._child(arn)
            extra = {"mapRunArn": child.get("mapRunArn"), "label": ref.label}
            machine_arn = ref.state_machine_arn
            snapshot = None
        else:
            execution = self._execution(arn)
            machine_arn = execution["stateMachineArn"]
            snapshot = execution.get(family.DEFINITION_ARN)
        machine = self._machine(ref.base_state_machine_arn)
        # The revision the execution started with, when it was recorded.
        ran = (self.store.get_state_machine(snapshot) if snapshot else None) or machine
        description = views.state_machine_description({**machine, **ran, "name": machine["name"]})
        out: Response = {
            "stateMachineArn": machine_arn,
            "name": description["name"],
            "definition": description["definition"],
            "roleArn": description["roleArn"],
            "updateDate": machine.get("updateDate", description["creationDate"]),
            "loggingConfiguration": description["loggingConfiguration"],
            "tracingConfiguration": description["tracingConfiguration"],
        }
        if ran.get("revisionId"):
            out["revisionId"] = ran["revisionId"]
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    # -- Map Runs -------------------------------------------------------------------------------

    def list_map_runs(self, request: Request) -> Response:
        """ListMapRuns of a parent execution."""
        arn = params.required_str(request, "executionArn", arns.MAX_ARN_LENGTH)
        size = params.page_size(request)
        token = params.optional_str(request, "nextToken", 1024)
        ref = arns.parse_execution_arn(arn)
        if ref.is_map_run_child:
            self._child(arn)
        else:
            self._execution(arn)
        inner = self._tokens.resolve(token, "ListMapRuns", arn)
        if self.map_runs is None:
            return {"mapRuns": []}
        return self._wrap_token(self.map_runs.list_map_runs(arn, size, inner), "ListMapRuns", arn)

    def _wrap_token(self, page: Response, operation: str, scope: str) -> Response:
        """The Map Run API's page with its ``nextToken`` replaced by one of :class:`PageTokens`.

        One pagination scheme for every listing: a client only ever sees opaque, stored tokens
        tied to the operation and the resource; the Map Run API's own position is kept inside.
        """
        inner = page.get("nextToken")
        if inner is not None:
            page = {**page, "nextToken": self._tokens.issue(operation, scope, inner)}
        return page

    def describe_map_run(self, request: Request) -> Response:
        """DescribeMapRun."""
        arn = params.required_str(request, "mapRunArn", arns.MAX_LONG_ARN_LENGTH)
        arns.parse_map_run_arn(arn)
        if self.map_runs is None:
            raise ResourceNotFound(f"Resource not found: '{arn}'")
        return self.map_runs.describe_map_run(arn)

    def update_map_run(self, request: Request) -> Response:
        """UpdateMapRun: concurrency and tolerated-failure settings of a running Map Run."""
        arn = params.required_str(request, "mapRunArn", arns.MAX_LONG_ARN_LENGTH)
        concurrency = params.int_in_range(request, "maxConcurrency", 0)
        percentage = params.float_in_range(request, "toleratedFailurePercentage", 0, 100)
        count = params.int_in_range(request, "toleratedFailureCount", 0)
        arns.parse_map_run_arn(arn)
        if self.map_runs is None:
            raise ResourceNotFound(f"Resource not found: '{arn}'")
        self.map_runs.update_map_run(arn, concurrency, percentage, count)
        return {}

"""Definition JSON -> immutable model, compiling every path, template and rule once.

``parse_definition`` first runs the validator (every problem AWS would report, with its
JSON path), then builds the model. PascalCase JSON names appear only in this module.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from orchestrator.asl._choice import compile_choice_rule
from orchestrator.asl._intrinsics import compile_intrinsic, is_intrinsic
from orchestrator.asl._jsonata import (
    JsonataCondition,
    JsonataTemplate,
    compile_jsonata,
    is_jsonata,
)
from orchestrator.asl._parse_map import parse_map
from orchestrator.asl._paths import (
    JsonPath,
    ReferencePath,
    compile_path,
    compile_reference_path,
)
from orchestrator.asl._template import Template, compile_template
from orchestrator.asl._timestamps import parse_timestamp
from orchestrator.asl.errors import DefinitionProblem, InvalidDefinition
from orchestrator.asl.model import (
    JSONATA,
    JSONPATH,
    Catcher,
    ChoiceBranch,
    ChoiceState,
    FailState,
    ParallelState,
    PassState,
    Retrier,
    State,
    StateIO,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from orchestrator.asl.model.io import DEFAULT_IO
from orchestrator.asl.ports import EngineOptions

_UNSET: Any = object()


def parse_definition(
    definition: str | Mapping[str, Any],
    *,
    machine_type: str = "STANDARD",
    options: EngineOptions | None = None,
) -> StateMachine:
    """Validate and parse a state machine definition.

    Args:
        definition: the ASL definition, as JSON text or an already-decoded mapping.
        machine_type: ``STANDARD`` or ``EXPRESS`` (some constructs are STANDARD-only).
        options: engine options (accepted for symmetry with ``run_execution``; unused here).

    Returns:
        The immutable :class:`StateMachine`.

    Raises:
        InvalidDefinition: the definition is invalid; ``problems`` lists every problem.
    """
    del options
    if isinstance(definition, str):
        try:
            raw = json.loads(definition)
        except ValueError as exc:
            raise InvalidDefinition(
                [
                    DefinitionProblem(
                        "", "INVALID_JSON_DESCRIPTION", f"Invalid JSON: {exc}"
                    )
                ]
            ) from exc
    else:
        # A private JSON copy: the model must not change if the caller mutates its dict.
        raw = json.loads(json.dumps(definition))
    if not isinstance(raw, dict):
        raise InvalidDefinition(
            [
                DefinitionProblem(
                    "",
                    "SCHEMA_VALIDATION_FAILED",
                    "The definition must be a JSON object",
                )
            ]
        )
    _validate(raw, machine_type)
    return _Parser().machine(raw, "", JSONPATH)


def _validate(raw: Mapping[str, Any], machine_type: str) -> None:
    try:
        from orchestrator.asl._validate import validate_definition
    except (
        ImportError
    ):  # the validator is written in parallel; parse alone until it exists
        return
    problems = validate_definition(raw, machine_type=machine_type)
    if problems:
        raise InvalidDefinition(list(problems))


def _uses_context_raw(value: Any) -> bool:
    """Whether a raw JSON fragment contains a string mentioning ``$$`` (a context path)."""
    if isinstance(value, str):
        return "$$" in value
    if isinstance(value, Mapping):
        return any(_uses_context_raw(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_context_raw(v) for v in value)
    return False


# A ``$name`` variable reference anywhere in a string (a path or an intrinsic argument).
_VARIABLE_REF = re.compile(r"(?<![\w$])\$[^\W\d]")


def _uses_variables_raw(value: Any) -> bool:
    """Whether a raw JSON fragment contains a string mentioning a ``$name`` variable."""
    if isinstance(value, str):
        return _VARIABLE_REF.search(value) is not None
    if isinstance(value, Mapping):
        return any(_uses_variables_raw(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_variables_raw(v) for v in value)
    return False


def _with_context(io: StateIO) -> StateIO:
    """``io`` marked as needing the context mapping (``$$``, variables or random draws)."""
    return io if io.uses_context else dataclasses.replace(io, uses_context=True)


def _uses_random(value: Any) -> bool:
    """Whether a template calls States.UUID/MathRandom (they draw from the context's journaled
    random source, so the context must be built for replay to be deterministic)."""
    if isinstance(value, str):
        return "States.UUID" in value or "States.MathRandom" in value
    if isinstance(value, Mapping):
        return any(_uses_random(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_random(v) for v in value)
    return False


class _Parser:
    """Builds model objects; raises InvalidDefinition naming the JSON path on any bad field.

    A state's QueryLanguage is its own or the top level's (spec 5.6): the states of a
    Parallel branch or of an ItemProcessor inherit the top level's, not the enclosing
    state's (as the validator checks them).
    """

    top_ql = JSONPATH

    def machine(
        self, raw: Mapping[str, Any], path: str, inherited_ql: str
    ) -> StateMachine:
        ql = raw.get("QueryLanguage", inherited_ql)
        if not path:
            self.top_ql = ql
        states_raw = raw.get("States")
        if not isinstance(states_raw, Mapping) or not isinstance(
            raw.get("StartAt"), str
        ):
            self._fail(
                path, "a state machine needs StartAt (string) and States (object)"
            )
        states: dict[str, State] = {}
        for name, state_raw in states_raw.items():
            states[name] = self.state(name, state_raw, f"{path}/States/{name}", ql)
        timeout = raw.get("TimeoutSeconds")
        return StateMachine(
            start_at=raw["StartAt"],
            states=states,
            timeout_seconds=timeout if isinstance(timeout, int) else None,
            comment=raw.get("Comment"),
            raw=raw,
            query_language=ql,
        )

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _fail(
        path: str, message: str, code: str = "SCHEMA_VALIDATION_FAILED"
    ) -> NoReturn:
        raise InvalidDefinition([DefinitionProblem(path, code, message)])

    def _path(self, raw: Mapping[str, Any], key: str, path: str) -> JsonPath | None:
        text = raw.get(key)
        if text is None:
            return None
        try:
            return compile_path(text)
        except (ValueError, TypeError) as exc:
            self._fail(f"{path}/{key}", f"Invalid JSONPath {text!r} in {key}: {exc}")

    def _ref(self, raw: Mapping[str, Any], key: str, path: str) -> ReferencePath | None:
        text = raw.get(key)
        if text is None:
            return None
        try:
            return compile_reference_path(text)
        except (ValueError, TypeError) as exc:
            self._fail(
                f"{path}/{key}", f"Invalid reference path {text!r} in {key}: {exc}"
            )

    def _template(self, raw: Mapping[str, Any], key: str, path: str) -> Template | None:
        if key not in raw:
            return None
        try:
            return compile_template(raw[key])
        except (ValueError, TypeError) as exc:
            self._fail(f"{path}/{key}", f"Invalid payload template in {key}: {exc}")

    def _jsonata(self, raw: Mapping[str, Any], key: str, path: str) -> JsonataTemplate | None:
        if key not in raw:
            return None
        try:
            return compile_jsonata(raw[key], key)
        except ValueError as exc:
            self._fail(f"{path}/{key}", str(exc))

    def _value(
        self, raw: Mapping[str, Any], key: str, path: str, ql: str
    ) -> Template | JsonataTemplate | None:
        """A payload field: a JSONPath template, or a JSONata value in a JSONata state."""
        if ql == JSONATA:
            return self._jsonata(raw, key, path)
        return self._template(raw, key, path)

    def _maybe_jsonata(self, raw: Mapping[str, Any], key: str, path: str) -> Any:
        """A literal field that may instead hold a JSONata expression (compiled)."""
        value = raw.get(key)
        if is_jsonata(value):
            return self._jsonata(raw, key, path)
        return value

    def _io(
        self, raw: Mapping[str, Any], path: str, *, params: bool, results: bool,
        ql: str = JSONPATH,
    ) -> StateIO:
        if ql == JSONATA:
            return StateIO(
                parameters=self._jsonata(raw, "Arguments", path) if params else None,
                output=self._jsonata(raw, "Output", path),
                uses_context=True,
                jsonata=True,
            )
        keys = ("InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath")
        if not any(k in raw for k in keys):
            return DEFAULT_IO
        input_null = "InputPath" in raw and raw["InputPath"] is None
        output_null = "OutputPath" in raw and raw["OutputPath"] is None
        input_path = self._path(raw, "InputPath", path)
        output_path = self._path(raw, "OutputPath", path)
        # "$" is the identity: skip evaluation entirely (the common case, and the fast one).
        if input_path is not None and input_path.text == "$":
            input_path = None
        if output_path is not None and output_path.text == "$":
            output_path = None
        parameters = self._template(raw, "Parameters", path) if params else None
        selector = self._template(raw, "ResultSelector", path) if results else None
        result_discard = results and "ResultPath" in raw and raw["ResultPath"] is None
        result_path = self._ref(raw, "ResultPath", path) if results else None
        if result_path is not None and result_path.text == "$":
            result_path = None
        uses_context = any(
            [
                input_path is not None and input_path.needs_context,
                output_path is not None and output_path.needs_context,
                parameters is not None and parameters.uses_context,
                selector is not None and selector.uses_context,
                _uses_random(raw.get("Parameters")) if params else False,
                _uses_random(raw.get("ResultSelector")) if results else False,
            ]
        )
        return StateIO(
            input_path=input_path,
            input_null=input_null,
            parameters=parameters,
            result_selector=selector,
            result_path=result_path,
            result_discard=result_discard,
            output_path=output_path,
            output_null=output_null,
            uses_context=uses_context,
        )

    def _retry(self, raw: Mapping[str, Any], path: str) -> tuple[Retrier, ...]:
        out = []
        for entry in raw.get("Retry") or ():
            out.append(
                Retrier(
                    error_equals=tuple(entry.get("ErrorEquals") or ()),
                    interval_seconds=entry.get("IntervalSeconds", 1),
                    max_attempts=entry.get("MaxAttempts", 3),
                    backoff_rate=entry.get("BackoffRate", 2.0),
                    max_delay_seconds=entry.get("MaxDelaySeconds"),
                    jitter_strategy=entry.get("JitterStrategy", "NONE"),
                )
            )
        return tuple(out)

    def _catch(
        self, raw: Mapping[str, Any], path: str, ql: str = JSONPATH
    ) -> tuple[Catcher, ...]:
        out = []
        for i, entry in enumerate(raw.get("Catch") or ()):
            where = f"{path}/Catch/{i}"
            if ql == JSONATA:
                out.append(
                    Catcher(
                        error_equals=tuple(entry.get("ErrorEquals") or ()),
                        next=entry["Next"],
                        result_path=None,
                        assign=self._jsonata(entry, "Assign", where),
                        output=self._jsonata(entry, "Output", where),
                    )
                )
                continue
            result_path = self._ref(entry, "ResultPath", f"{path}/Catch/{i}")
            if result_path is not None and result_path.text == "$":
                result_path = None
            out.append(
                Catcher(
                    error_equals=tuple(entry.get("ErrorEquals") or ()),
                    next=entry["Next"],
                    result_path=result_path,
                    result_discard="ResultPath" in entry
                    and entry["ResultPath"] is None,
                    assign=self._template(entry, "Assign", f"{path}/Catch/{i}"),
                )
            )
        return tuple(out)

    # -- states ---------------------------------------------------------------------------

    def state(self, name: str, raw: Any, path: str, inherited_ql: str) -> State:
        if not isinstance(raw, Mapping):
            self._fail(path, f"State '{name}' must be an object")
        ql = raw.get("QueryLanguage", inherited_ql)
        kind = raw.get("Type")
        common: dict[str, Any] = {
            "name": name,
            "type": kind,
            "next": raw.get("Next"),
            "end": bool(raw.get("End", False)),
            "comment": raw.get("Comment"),
            "query_language": ql,
            "assign": self._value(raw, "Assign", path, ql),
            "raw": raw,
        }
        builder = (
            getattr(self, f"_state_{kind}", None) if isinstance(kind, str) else None
        )
        if builder is None:
            self._fail(f"{path}/Type", f"Unknown state type {kind!r} in state '{name}'")
        result: State = builder(raw, path, common, ql)
        if result.assign is not None and result.assign.uses_context:
            # The Assign template reads $$ or variables: the runner must build the context.
            result = dataclasses.replace(result, io=_with_context(result.io))
        return result

    def _state_Pass(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        return PassState(
            io=self._io(raw, path, params=True, results=True, ql=ql),
            result=raw.get("Result"),
            has_result="Result" in raw,
            **common,
        )

    def _state_Task(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        return TaskState(
            io=self._io(raw, path, params=True, results=True, ql=ql),
            resource=raw["Resource"],
            timeout_seconds=self._maybe_jsonata(raw, "TimeoutSeconds", path),
            timeout_seconds_path=self._path(raw, "TimeoutSecondsPath", path),
            heartbeat_seconds=self._maybe_jsonata(raw, "HeartbeatSeconds", path),
            heartbeat_seconds_path=self._path(raw, "HeartbeatSecondsPath", path),
            credentials=self._value(raw, "Credentials", path, ql),
            retry=self._retry(raw, path),
            catch=self._catch(raw, path, ql),
            **common,
        )

    def _state_Choice(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        branches = []
        for i, rule_raw in enumerate(raw.get("Choices") or ()):
            where = f"{path}/Choices/{i}"
            if ql == JSONATA:
                condition = self._jsonata(rule_raw, "Condition", where)
                if condition is None:
                    self._fail(where, "A JSONata Choice rule needs a Condition")
                branches.append(
                    ChoiceBranch(
                        rule=JsonataCondition(condition),
                        next=rule_raw["Next"],
                        assign=self._jsonata(rule_raw, "Assign", where),
                        output=self._jsonata(rule_raw, "Output", where),
                    )
                )
                continue
            try:
                rule = compile_choice_rule(rule_raw)
            except (ValueError, TypeError, KeyError) as exc:
                self._fail(f"{path}/Choices/{i}", f"Invalid Choice rule: {exc}")
            branches.append(
                ChoiceBranch(
                    rule=rule,
                    next=rule_raw["Next"],
                    assign=self._template(rule_raw, "Assign", f"{path}/Choices/{i}"),
                )
            )
        io = self._io(raw, path, params=False, results=False, ql=ql)
        choices_raw = raw.get("Choices")
        if _uses_context_raw(choices_raw) or _uses_variables_raw(choices_raw):
            io = _with_context(io)
        return ChoiceState(
            io=io, choices=tuple(branches), default=raw.get("Default"), **common
        )

    def _state_Wait(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        timestamp: Any = None
        if ql == JSONATA and is_jsonata(raw.get("Timestamp")):
            timestamp = self._jsonata(raw, "Timestamp", path)
        elif "Timestamp" in raw:
            timestamp = (
                parse_timestamp(raw["Timestamp"])
                if isinstance(raw["Timestamp"], str)
                else None
            )
            if timestamp is None:
                self._fail(
                    f"{path}/Timestamp", f"Invalid Timestamp {raw['Timestamp']!r}"
                )
        io = self._io(raw, path, params=False, results=False, ql=ql)
        seconds_path = self._path(raw, "SecondsPath", path)
        timestamp_path = self._path(raw, "TimestampPath", path)
        if any(p is not None and p.needs_context for p in (seconds_path, timestamp_path)):
            io = _with_context(io)
        return WaitState(
            io=io,
            seconds=self._maybe_jsonata(raw, "Seconds", path),
            timestamp=timestamp,
            seconds_path=seconds_path,
            timestamp_path=timestamp_path,
            **common,
        )

    def _state_Succeed(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        return SucceedState(
            io=self._io(raw, path, params=False, results=False, ql=ql), **common
        )

    def _state_Fail(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        return FailState(
            error=self._maybe_jsonata(raw, "Error", path),
            cause=self._maybe_jsonata(raw, "Cause", path),
            error_path=self._path_or_intrinsic(raw, "ErrorPath", path),
            cause_path=self._path_or_intrinsic(raw, "CausePath", path),
            **common,
        )

    def _path_or_intrinsic(self, raw: Mapping[str, Any], key: str, path: str) -> Any:
        text = raw.get(key)
        if isinstance(text, str) and is_intrinsic(text):
            try:
                return compile_intrinsic(text)
            except ValueError as exc:
                self._fail(
                    f"{path}/{key}", f"Invalid intrinsic function in {key}: {exc}"
                )
        return self._path(raw, key, path)

    def _state_Parallel(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        branches = tuple(
            self.machine(branch, f"{path}/Branches/{i}", self.top_ql)
            for i, branch in enumerate(raw.get("Branches") or ())
        )
        return ParallelState(
            io=self._io(raw, path, params=True, results=True, ql=ql),
            branches=branches,
            retry=self._retry(raw, path),
            catch=self._catch(raw, path, ql),
            **common,
        )

    def _state_Map(
        self, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
    ) -> State:
        return parse_map(self, raw, path, common, ql)


__all__ = ["parse_definition"]

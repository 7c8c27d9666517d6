"""Input/output processing of a state (spec 5.3) and the payload size limit.

InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath -> OutputPath, with AWS's
error shapes: a path that selects nothing is ``States.Runtime`` (the interpreter adds the
"An error occurred while executing the state ..." prefix), a payload over the limit is
``States.DataLimitExceeded``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from orchestrator.asl._paths import JsonPath, PathNotFound
from orchestrator.asl.errors import DataLimitExceeded, Runtime, StatesError
from orchestrator.asl.model.io import StateIO

#: Compact JSON as AWS shows payloads (no spaces, non-ASCII kept).
compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

_SEGMENT = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def normalized(path_text: str) -> str:
    """A reference path in AWS's bracket notation: ``$.a[0].b`` -> ``$['a'][0]['b']``."""
    if not path_text.startswith("$"):
        return path_text
    head = "$$" if path_text.startswith("$$") else "$"
    rest = path_text[len(head) :]
    out = [head]
    pos = 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if m is None:  # not a reference path: show it as written
            return path_text
        name, quoted, index = m.groups()
        if index is not None:
            out.append(f"[{index}]")
        else:
            out.append(f"['{name if name is not None else quoted}']")
        pos = m.end()
    return "".join(out)


def no_results(path_text: str) -> StatesError:
    """The ``States.Runtime`` AWS raises when an InputPath/OutputPath/... selects nothing."""
    return Runtime(
        f"Invalid path '{path_text}' : No results for path: {normalized(path_text)}"
    )


def select(path: JsonPath, data: Any, context: Mapping[str, Any] | None) -> Any:
    """Evaluate a path; a definite path that selects nothing raises States.Runtime."""
    try:
        return path.find(data, context)
    except PathNotFound:
        raise no_results(path.text) from None


def effective_input(io: StateIO, raw: Any, context: Mapping[str, Any] | None) -> Any:
    """InputPath then Parameters, as for Task/Parallel/Pass."""
    if io.input_null:
        data: Any = {}
    elif io.input_path is None:
        data = raw
    else:
        data = select(io.input_path, raw, context)
    if io.parameters is not None:
        data = io.parameters.evaluate(data, context)
    return data


def apply_input_path(io: StateIO, raw: Any, context: Mapping[str, Any] | None) -> Any:
    """InputPath only (Choice, Wait, Succeed, Map)."""
    if io.input_null:
        return {}
    if io.input_path is None:
        return raw
    return select(io.input_path, raw, context)


def apply_result(
    io: StateIO,
    raw: Any,
    result: Any,
    context: Mapping[str, Any] | None,
    *,
    selector: bool = True,
) -> Any:
    """ResultSelector, ResultPath (into the raw input), then OutputPath.

    JSONata (spec 5.6): ``Output`` with ``$states.input`` (the raw input) and
    ``$states.result``; without it the result is the output.
    """
    if io.jsonata:
        if io.output is None:
            return result
        return io.output.evaluate_states({"input": raw, "result": result}, context)
    if selector and io.result_selector is not None:
        result = io.result_selector.evaluate(result, context)
    if io.result_discard:
        out = raw
    elif io.result_path is None:
        out = result
    else:
        try:
            out = io.result_path.assign(raw, result)
        except (PathNotFound, TypeError, ValueError, KeyError, IndexError):
            raise Runtime(
                f"Unable to apply ReferencePath {io.result_path.text} to input {compact(raw)}"
            ) from None
    return apply_output_path(io, out, context)


def apply_output_path(io: StateIO, out: Any, context: Mapping[str, Any] | None) -> Any:
    """OutputPath (``null`` gives ``{}``); JSONata: ``Output`` with ``$states.input``."""
    if io.jsonata:
        return out if io.output is None else io.output.evaluate(out, context)
    if io.output_null:
        return {}
    if io.output_path is None:
        return out
    return select(io.output_path, out, context)


def catch_output(catcher_path: Any, discard: bool, raw: Any, error: StatesError) -> Any:
    """The state output after a Catch: ``{"Error", "Cause"}`` placed into the raw input."""
    error_output = error_output_of(error)
    if discard:
        return raw
    if catcher_path is None:
        return error_output
    try:
        return catcher_path.assign(raw, error_output)
    except (PathNotFound, TypeError, ValueError, KeyError, IndexError):
        raise Runtime(
            f"Unable to apply ReferencePath {catcher_path.text} to input {compact(raw)}"
        ) from None


def error_output_of(error: StatesError) -> dict[str, str]:
    """The ``{"Error", "Cause"}`` error output; ``Cause`` is left out when there is none
    (AWS guide: a Catch of an error without cause yields ``{"Error": "..."}`` only)."""
    out: dict[str, str] = {}
    if error.error:  # a Fail state without Error leaves it out (observed)
        out["Error"] = error.error
    if error.cause:
        out["Cause"] = error.cause
    return out


def error_details(error: str, cause: str) -> dict[str, str]:
    """``{"error", "cause"}`` history details, without an empty error or cause (a Fail state
    without Error/Cause leaves them out, observed)."""
    out: dict[str, str] = {}
    if error:
        out["error"] = error
    if cause:
        out["cause"] = cause
    return out


def payload_too_large(value: Any, limit: int) -> bool:
    """Whether the UTF-8 size of ``value`` as compact JSON exceeds ``limit`` bytes."""
    text = compact(value)
    n = len(text)
    if n * 4 <= limit:  # even all 4-byte characters would fit: no need to encode
        return False
    if n > limit:
        return True
    return len(text.encode("utf-8")) > limit


def data_limit(state_name: str) -> StatesError:
    """AWS's States.DataLimitExceeded for a state or task result (observed cause)."""
    return DataLimitExceeded(
        f"The state/task '{state_name}' returned a result with a size exceeding the maximum "
        "number of bytes service limit."
    )


def task_result_too_large(resource: str, parameters: Any) -> StatesError:
    """States.DataLimitExceeded for an oversized Task result: the cause names the resource
    (for ``lambda:invoke``, the FunctionName), and ``States.ALL`` matches it (observed)."""
    if (resource.startswith("arn:aws:states:::lambda:invoke") and isinstance(parameters, dict)
            and isinstance(parameters.get("FunctionName"), str)):
        resource = parameters["FunctionName"]
    error = DataLimitExceeded(
        f"The state/task '{resource}' returned a result with a size exceeding the maximum "
        "number of bytes service limit."
    )
    error.matched_by_all = True
    return error


def runtime_prefix(state_name: str, entered_event_id: int) -> str:
    """The prefix AWS puts before a States.Runtime cause raised while running a state."""
    return (
        f"An error occurred while executing the state '{state_name}' "
        f"(entered at the event id #{entered_event_id}). "
    )


def show_value(value: Any) -> str:
    """A value as AWS quotes it in ``refers to value "X"`` causes (strings unquoted)."""
    return value if isinstance(value, str) else compact(value)

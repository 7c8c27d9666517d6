"""Errors of the States Language engine.

Hierarchy::

    Exception
     ├── StatesError(error, cause)        runtime error seen by Retry/Catch; the name is data
     │    ├── TaskFailed                  States.TaskFailed
     │    ├── Timeout                     States.Timeout
     │    ├── HeartbeatTimeout            States.HeartbeatTimeout
     │    ├── Runtime                     States.Runtime (never caught by States.ALL)
     │    ├── DataLimitExceeded           States.DataLimitExceeded (never caught by States.ALL)
     │    ├── ParameterPathFailure        States.ParameterPathFailure
     │    ├── ResultPathMatchFailure      States.ResultPathMatchFailure
     │    ├── IntrinsicFailure            States.IntrinsicFailure
     │    ├── NoChoiceMatched             States.NoChoiceMatched
     │    ├── ItemReaderFailed            States.ItemReaderFailed
     │    ├── ResultWriterFailed          States.ResultWriterFailed
     │    └── ExceedToleratedFailureThreshold
     └── InvalidDefinition(problems)      a definition AWS would reject; lists every problem

Retry and Catch match on :attr:`StatesError.error` (a string), never on the Python
class: a handler may raise ``StatesError("App.Quota", "...")`` and a retrier on
``App.Quota`` sees it. The subclasses only exist so that our own code reads well.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
PERMISSIONS = "States.Permissions"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"

#: Every error name the language reserves (``States.`` prefix).
RESERVED_NAMES: frozenset[str] = frozenset(
    {
        ALL,
        TASK_FAILED,
        TIMEOUT,
        HEARTBEAT_TIMEOUT,
        PERMISSIONS,
        RUNTIME,
        DATA_LIMIT_EXCEEDED,
        PARAMETER_PATH_FAILURE,
        RESULT_PATH_MATCH_FAILURE,
        BRANCH_FAILED,
        NO_CHOICE_MATCHED,
        INTRINSIC_FAILURE,
        ITEM_READER_FAILED,
        RESULT_WRITER_FAILED,
        EXCEED_TOLERATED_FAILURE_THRESHOLD,
        QUERY_EVALUATION_ERROR,
        "States.Http.Socket",
    }
)

#: The HTTP Task's error for a response status outside 2xx: ``States.Http.StatusCode.<NNN>``.
HTTP_STATUS_CODE_PREFIX = "States.Http.StatusCode."


def is_reserved_name(name: str) -> bool:
    """Whether ``name`` is an error name the language reserves (``States.Http.StatusCode.404``
    included: the HTTP Task names an unsuccessful status by its code)."""
    if name in RESERVED_NAMES:
        return True
    code = name[len(HTTP_STATUS_CODE_PREFIX):] if name.startswith(HTTP_STATUS_CODE_PREFIX) else ""
    return len(code) == 3 and code.isdigit() and code.isascii()


#: Errors that ``States.ALL`` does not match (AWS developer guide, error handling).
NOT_MATCHED_BY_ALL: frozenset[str] = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})

#: Cause AWS gives when a Map Run fails on its tolerated-failure threshold.
EXCEED_TOLERATED_FAILURE_CAUSE = "The specified tolerated failure threshold was exceeded"


class StatesError(Exception):
    """A runtime error with an ASL error name and a cause string.

    Args:
        error: the error name Retry/Catch match on, e.g. ``States.Timeout``.
        cause: a human-readable string (often JSON text); never a stack trace.
    """

    default_error: str = TASK_FAILED
    #: A States.DataLimitExceeded that a ``States.ALL`` catcher still catches (an oversized
    #: Task result, observed on AWS); every other one is matched only by its exact name, and
    #: no retrier retries it by ``States.ALL`` (AWS's error-handling guide).
    matched_by_all: bool = False

    def __init__(self, error: str | None = None, cause: str = "") -> None:
        self.error = error if error is not None else self.default_error
        self.cause = cause
        super().__init__(f"{self.error}: {cause}" if cause else self.error)

    def to_dict(self) -> dict[str, str]:
        """The ``{"Error", "Cause"}`` error output carried through Catch."""
        return {"Error": self.error, "Cause": self.cause}


def _named(name: str, error: str, doc: str) -> type[StatesError]:
    cls = type(name, (StatesError,), {"default_error": error, "__doc__": doc})

    def __init__(self: StatesError, cause: str = "") -> None:
        StatesError.__init__(self, error, cause)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


TaskFailed = _named("TaskFailed", TASK_FAILED, "A Task failed (States.TaskFailed).")
Timeout = _named("Timeout", TIMEOUT, "A Task or execution ran past its TimeoutSeconds.")
HeartbeatTimeout = _named("HeartbeatTimeout", HEARTBEAT_TIMEOUT, "A Task missed its heartbeat.")
Runtime = _named("Runtime", RUNTIME, "An unprocessable error; not retried, not caught by States.ALL.")
DataLimitExceeded = _named(
    "DataLimitExceeded", DATA_LIMIT_EXCEEDED, "A payload exceeded the size limit (256 KiB)."
)
ParameterPathFailure = _named(
    "ParameterPathFailure", PARAMETER_PATH_FAILURE, "A Parameters path could not be resolved."
)
ResultPathMatchFailure = _named(
    "ResultPathMatchFailure", RESULT_PATH_MATCH_FAILURE, "ResultPath could not be applied."
)
IntrinsicFailure = _named(
    "IntrinsicFailure", INTRINSIC_FAILURE, "An intrinsic function call failed."
)
NoChoiceMatched = _named(
    "NoChoiceMatched", NO_CHOICE_MATCHED, "No Choice rule matched and there is no Default."
)
ItemReaderFailed = _named(
    "ItemReaderFailed", ITEM_READER_FAILED, "A Distributed Map could not read its items."
)
ResultWriterFailed = _named(
    "ResultWriterFailed", RESULT_WRITER_FAILED, "A Distributed Map could not write its results."
)
ExceedToleratedFailureThreshold = _named(
    "ExceedToleratedFailureThreshold",
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    "A Map Run's failures exceeded ToleratedFailureCount or ToleratedFailurePercentage.",
)


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One reason a definition is invalid.

    Attributes:
        path: JSON Pointer-style location, e.g. ``/States/Map/ItemBatcher/MaxItemsPerBatch``.
        code: a stable machine-readable code, e.g. ``SCHEMA_VALIDATION_FAILED``.
        message: what is wrong, naming the field and the bad value.
    """

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        # AWS's InvalidDefinition text: "CODE: message at /States/X/Field".
        return f"{self.code}: {self.message} at {self.path or '/'}"


class InvalidDefinition(Exception):
    """A definition that AWS would reject; carries every problem found."""

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        self.problems = list(problems)
        listed = ", ".join(f"'{p}'" for p in self.problems)
        super().__init__(f"Invalid State Machine Definition: {listed}")


class UnsupportedFeature(InvalidDefinition):
    """A valid definition using a feature this engine does not run yet (e.g. JSONata)."""

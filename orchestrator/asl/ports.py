"""Ports: how the engine talks to the world, and the requests it hands out.

The interpreter is pure and synchronous. It calls out only through the Protocols
below (a task invoker, a clock, a Distributed Map runner, a random source). A port
that cannot answer now raises :class:`Pending` carrying a request; the interpreter
then returns a ``Suspended`` outcome whose checkpoint the caller resolves later.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from orchestrator.asl._reader_config import (
    reader_config_asl,
    reader_config_from_dict,
    reader_config_of,
)
from orchestrator.asl.model.map import ReaderConfig


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What the context object's Execution and StateMachine parts show."""

    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    start_time: datetime
    role_arn: str = "arn:aws:iam::000000000000:role/stepmap"
    redrive_count: int = 0
    redrive_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Limits and switches of one run.

    Attributes:
        payload_limit_bytes: UTF-8 size of compact JSON above which a state input/output or
            task result fails with ``States.DataLimitExceeded``.
        history: collect history events (False for EXPRESS children: no event is built).
        max_history_events: an execution whose history grows past this fails (States.Runtime).
    """

    payload_limit_bytes: int = 262_144
    history: bool = True
    max_history_events: int = 25_000


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """Invoke a Task resource with its resolved parameters."""

    state_name: str
    resource: str
    parameters: Any
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    context: dict[str, Any] = field(default_factory=dict)

    kind = "task"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with a ``kind`` tag)."""
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskRequest:
        """Inverse of :meth:`to_dict`."""
        return cls(
            state_name=data["state_name"],
            resource=data["resource"],
            parameters=data.get("parameters"),
            timeout_seconds=data.get("timeout_seconds"),
            heartbeat_seconds=data.get("heartbeat_seconds"),
            context=dict(data.get("context") or {}),
        )


@dataclass(frozen=True, slots=True)
class WaitRequest:
    """Resume the execution no earlier than ``until`` (a Wait state or a Retry delay)."""

    state_name: str
    until: datetime

    kind = "wait"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``until`` as ISO-8601."""
        return {
            "kind": self.kind,
            "state_name": self.state_name,
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaitRequest:
        """Inverse of :meth:`to_dict`."""
        return cls(
            state_name=data["state_name"], until=datetime.fromisoformat(data["until"])
        )


@dataclass(frozen=True, slots=True)
class ItemReaderRequest:
    """A Map Run's ItemReader: its Resource, its resolved Parameters and its typed config.

    ``parameters`` are the S3 request fields (``Bucket``, ``Key``, ``Prefix``, ``VersionId``,
    ``ExpectedBucketOwner``) as the ItemReader's Parameters (or Arguments) produced them;
    ``config.max_items`` holds the resolved ``MaxItems``/``MaxItemsPath``.
    """

    resource: str
    parameters: dict[str, Any]
    config: ReaderConfig

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (enums as their values, headers as a list)."""
        config = {name: value.value if isinstance(value, Enum) else value
                  for name, value in asdict(self.config).items()}
        if self.config.csv_headers is not None:
            config["csv_headers"] = list(self.config.csv_headers)
        return {"resource": self.resource, "parameters": self.parameters, "config": config}

    def to_asl(self) -> dict[str, Any]:
        """The ASL shape (``Resource``, ``Parameters``, ``ReaderConfig``)."""
        return {"Resource": self.resource, "Parameters": self.parameters,
                "ReaderConfig": reader_config_asl(self.config)}

    @classmethod
    def of_asl(cls, raw: Mapping[str, Any]) -> ItemReaderRequest:
        """A resolved ItemReader in its ASL shape (``MaxItems`` a value), typed."""
        params = raw.get("Parameters") or raw.get("Arguments") or {}
        return cls(resource=str(raw.get("Resource", "")),
                   parameters=dict(params) if isinstance(params, Mapping) else {},
                   config=reader_config_of(raw.get("ReaderConfig")))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemReaderRequest:
        """Inverse of :meth:`to_dict`; also reads a request stored in the ASL shape."""
        if "Resource" in data:
            return cls.of_asl(data)
        return cls(resource=data["resource"], parameters=dict(data.get("parameters") or {}),
                   config=reader_config_from_dict(data.get("config") or {}))


@dataclass(frozen=True, slots=True)
class DistributedMapRequest:
    """Start a Map Run for a Distributed Map state (every ``...Path`` already resolved).

    ``reader`` is the typed ItemReader; ``batcher``/``result_writer`` hold the JSON
    configuration with the templates resolved against the Map state's effective input;
    ``items`` is the array or object selected by ItemsPath when there is no ItemReader.
    """

    state_name: str
    label: str | None
    map_state_raw: dict[str, Any]
    effective_input: Any
    context: dict[str, Any]
    max_concurrency: int
    tolerated_failure_count: int | None
    tolerated_failure_percentage: float | None
    reader: ItemReaderRequest | None
    items: Any | None
    item_selector: Any | None
    batcher: dict[str, Any] | None
    result_writer: dict[str, Any] | None
    processor: dict[str, Any]
    execution_type: str
    #: The Map state's QueryLanguage: how ``item_selector`` is compiled
    #: (:func:`~orchestrator.asl.compile_item_selector`).
    query_language: str = "JSONPath"
    #: The workflow variables the ItemSelector names (it may read the parent's variables).
    item_selector_variables: dict[str, Any] | None = None

    kind = "map"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with a ``kind`` tag)."""
        data = asdict(self)
        data["reader"] = self.reader.to_dict() if self.reader is not None else None
        return {"kind": self.kind, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistributedMapRequest:
        """Inverse of :meth:`to_dict`."""
        fields = {k: v for k, v in data.items() if k != "kind"}
        if fields.get("reader") is not None:
            fields["reader"] = ItemReaderRequest.from_dict(fields["reader"])
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class MapRunResultRequest:
    """Wait for the result of a running Map Run (raised by ``MapRunner.result``)."""

    state_name: str
    map_run_arn: str

    kind = "map_result"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with a ``kind`` tag)."""
        return {
            "kind": self.kind,
            "state_name": self.state_name,
            "map_run_arn": self.map_run_arn,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MapRunResultRequest:
        """Inverse of :meth:`to_dict`."""
        return cls(state_name=data["state_name"], map_run_arn=data["map_run_arn"])


Request = TaskRequest | WaitRequest | DistributedMapRequest | MapRunResultRequest

_REQUEST_KINDS: dict[str, Any] = {
    "task": TaskRequest,
    "wait": WaitRequest,
    "map": DistributedMapRequest,
    "map_result": MapRunResultRequest,
}


def request_from_dict(data: Mapping[str, Any]) -> Request:
    """Rebuild any request from its ``to_dict()`` form (dispatch on ``kind``)."""
    cls = _REQUEST_KINDS[data["kind"]]
    result: Request = cls.from_dict(data)
    return result


class Pending(Exception):
    """Raised by a port: the outside world has not answered yet.

    Args:
        request: what the caller must do (or wait for) before resuming the execution.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        super().__init__(f"pending {request.kind} for state {request.state_name!r}")


class RequestPool(Protocol):
    """Runs several port calls at once for a synchronous caller (a worker's child workflow).

    The engine submits every call that branches or iterations wait for, then asks for
    answers; each answer is the journal form of the call's outcome: ``{"v": value}`` or
    ``{"e": error, "c": cause}``.
    """

    def submit(self, key: str, request: Request) -> bool:
        """Start ``request`` (a Task or a Wait); False if this pool cannot run its kind."""
        ...

    def wait(self) -> list[tuple[str, dict[str, Any]]]:
        """Block until at least one submitted call has answered; return the new answers."""
        ...

    def close(self) -> None:
        """Give up the calls still running (their answers are dropped)."""
        ...


@runtime_checkable
class ConcurrentTasks(Protocol):
    """A TaskInvoker that can also run calls concurrently (see :class:`RequestPool`).

    Without it, branches and iterations still interleave, but a synchronous invoker answers
    one call at a time.
    """

    def open_pool(self, clock: Clock) -> RequestPool:
        """A pool for the calls of one Parallel or inline Map state (closed by the engine)."""
        ...


class TaskInvoker(Protocol):
    """Runs Task resources."""

    def invoke(self, request: TaskRequest) -> Any:
        """Return the raw result; raise StatesError on failure or Pending to answer later."""
        ...


class Clock(Protocol):
    """Time, for Wait states, Retry delays, the context object and event timestamps."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def wait_until(self, state_name: str, until: datetime) -> None:
        """Return when ``until`` has come; may raise Pending(WaitRequest) for long waits."""
        ...


class MapRunner(Protocol):
    """Distributed Map port: starts Map Runs and reports their results."""

    def start(self, request: DistributedMapRequest) -> str:
        """Start a Map Run and return its ARN."""
        ...

    def result(self, map_run_arn: str) -> Any:
        """The Map's raw result; raises StatesError on failure or Pending while it runs."""
        ...


@dataclass
class Ports:
    """Everything a run may call out to.

    Attributes:
        tasks: the Task invoker.
        clock: time source and waiter.
        map_runner: needed only by machines with a Distributed Map.
        random: randomness for Retry jitter and the UUID/MathRandom intrinsics (None: a fresh
            ``random.Random``); every draw is journaled, so replay is deterministic anyway.
    """

    tasks: TaskInvoker
    clock: Clock
    map_runner: MapRunner | None = None
    random: random.Random | None = None

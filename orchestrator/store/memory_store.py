"""In-memory :class:`~orchestrator.store.base.StateStore` for tests and single-process use.

Same contract as the Redis store (checked by the same tests); thread-safe through one lock.
Records are copied in and out so callers never share mutable state with the store.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from orchestrator.store.base import Cursor


def _apply(record: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        if value is None:
            record.pop(name, None)
        else:
            record[name] = copy.deepcopy(value)


def _roundtrip(value: Mapping[str, Any]) -> dict[str, Any]:
    # Same normalisation as the Redis store: what goes in is what JSON can carry.
    result: dict[str, Any] = json.loads(json.dumps(value))
    return result


class MemoryStore:
    """A :class:`StateStore` held in process memory.

    Args:
        clock: seconds source for token expiry (injectable so tests never sleep).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._machines: dict[str, dict[str, Any]] = {}
        self._executions: dict[str, dict[str, Any]] = {}
        self._by_machine: dict[str, dict[str, float]] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._checkpoints: dict[str, str] = {}
        self._tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        self._open: dict[str, float] = {}

    def ping(self) -> bool:
        return True

    # -- state machines -------------------------------------------------------------------------

    def insert_state_machine(self, record: Mapping[str, Any]) -> bool:
        with self._lock:
            arn = record["stateMachineArn"]
            if arn in self._machines:
                return False
            self._machines[arn] = {k: v for k, v in _roundtrip(record).items() if v is not None}
            return True

    def get_state_machine(self, arn: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._machines.get(arn)
            return copy.deepcopy(record) if record is not None else None

    def update_state_machine(self, arn: str, fields: Mapping[str, Any]) -> None:
        with self._lock:
            if arn in self._machines:
                _apply(self._machines[arn], fields)

    def delete_state_machine(self, arn: str) -> None:
        with self._lock:
            self._machines.pop(arn, None)

    def iter_state_machines(
        self, after: Cursor | None = None
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        with self._lock:
            rows = sorted((float(r["creationDate"]), arn) for arn, r in self._machines.items())
        for cursor in rows:
            if after is not None and cursor <= after:
                continue
            record = self.get_state_machine(cursor[1])
            if record is not None:
                yield cursor, record

    # -- executions -----------------------------------------------------------------------------

    def insert_execution(self, record: Mapping[str, Any]) -> bool:
        with self._lock:
            arn = record["executionArn"]
            if arn in self._executions:
                return False
            self._open.setdefault(arn, self._clock())
            self._executions[arn] = {k: v for k, v in _roundtrip(record).items() if v is not None}
            index = self._by_machine.setdefault(record["stateMachineArn"], {})
            index[arn] = float(record["startDate"])
            return True

    def stale_open_executions(self, before: float, limit: int) -> list[str]:
        with self._lock:
            rows = sorted((at, arn) for arn, at in self._open.items() if at <= before)
            return [arn for _, arn in rows[:limit]]

    def touch_open_execution(self, arn: str, at: float) -> None:
        with self._lock:
            if arn in self._open:
                self._open[arn] = at

    def drop_open_execution(self, arn: str) -> None:
        with self._lock:
            self._open.pop(arn, None)

    def get_execution(self, arn: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._executions.get(arn)
            return copy.deepcopy(record) if record is not None else None

    def update_execution(self, arn: str, fields: Mapping[str, Any]) -> None:
        with self._lock:
            if arn in self._executions:
                _apply(self._executions[arn], fields)

    def transition_execution(
        self,
        arn: str,
        from_statuses: Collection[str],
        fields: Mapping[str, Any],
        event: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        with self._lock:
            record = self._executions.get(arn)
            if record is None or record.get("status") not in from_statuses:
                return None
            _apply(record, fields)
            if fields.get("status") == "RUNNING":
                self._open[arn] = self._clock()
            if event is not None:
                history = self._history.setdefault(arn, [])
                last_id = int(history[-1]["id"]) if history else 0
                stored = {"id": last_id + 1, "previousEventId": last_id, **_roundtrip(event)}
                history.append(stored)
            return copy.deepcopy(record)

    def iter_executions(
        self, state_machine_arn: str, after: Cursor | None = None
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        with self._lock:
            index = self._by_machine.get(state_machine_arn, {})
            rows = sorted(((score, arn) for arn, score in index.items()), reverse=True)
        for cursor in rows:
            if after is not None and cursor >= after:
                continue
            record = self.get_execution(cursor[1])
            if record is not None:
                yield cursor, record

    # -- history --------------------------------------------------------------------------------

    def append_history(
        self, arn: str, events: Sequence[Mapping[str, Any]], *, require_status: str | None = None
    ) -> bool:
        with self._lock:
            if require_status is not None:
                record = self._executions.get(arn)
                if record is None or record.get("status") != require_status:
                    return False
            self._history.setdefault(arn, []).extend(_roundtrip(event) for event in events)
            return True

    def history_length(self, arn: str) -> int:
        with self._lock:
            return len(self._history.get(arn, []))

    def get_history(self, arn: str, start: int, stop: int) -> list[dict[str, Any]]:
        with self._lock:
            history = self._history.get(arn, [])
            return copy.deepcopy(history[max(start, 0) : max(stop, 0)])

    # -- checkpoints ----------------------------------------------------------------------------

    def get_checkpoint(self, arn: str) -> str | None:
        with self._lock:
            return self._checkpoints.get(arn)

    def set_checkpoint(self, arn: str, checkpoint: str | None) -> None:
        with self._lock:
            if checkpoint is None:
                self._checkpoints.pop(arn, None)
            else:
                self._checkpoints[arn] = checkpoint

    # -- pagination tokens ----------------------------------------------------------------------

    def put_page_token(self, payload: Mapping[str, Any], ttl_seconds: int) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._tokens[token] = (self._clock() + ttl_seconds, _roundtrip(payload))
        return token

    def get_page_token(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            expiry, payload = entry
            if self._clock() >= expiry:
                del self._tokens[token]
                return None
            return copy.deepcopy(payload)

"""Redis :class:`~orchestrator.store.base.StateStore` (key templates in :mod:`.keys`).

Records are hashes with one field per attribute: strings as they are, dates and counts as
decimal text, nested objects as JSON, so Lua scripts of the control plane can read ``status``
directly. Creation and status transitions are Lua scripts, so two API processes (or the API and
the control plane) never both win a race. History events are JSON strings in a list.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import redis

from orchestrator.jsontext import dumps
from orchestrator.store.base import DATE_FIELDS, INT_FIELDS, JSON_FIELDS, Cursor
from orchestrator.store.sync_redis import sync
from orchestrator.store.keys import Keys
from orchestrator.store.scripts import lua

_BATCH = 200


def _encode_value(name: str, value: Any) -> str:
    if name in JSON_FIELDS:
        return dumps(value)
    if name in DATE_FIELDS:
        return repr(float(value))
    if name in INT_FIELDS:
        return str(int(value))
    return str(value)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode_record(raw: Mapping[Any, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, data in raw.items():
        name = _text(key)
        text = _text(data)
        if name in JSON_FIELDS:
            record[name] = json.loads(text)
        elif name in DATE_FIELDS:
            record[name] = float(text)
        elif name in INT_FIELDS:
            record[name] = int(text)
        else:
            record[name] = text
    return record


def _split_fields(fields: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(flat name/value pairs to set, names to delete)."""
    pairs: list[str] = []
    deletes: list[str] = []
    for name, value in fields.items():
        if value is None:
            deletes.append(name)
        else:
            pairs.extend((name, _encode_value(name, value)))
    return pairs, deletes


class RedisStore:
    """A :class:`StateStore` in Redis.

    Args:
        client: a Redis client (``decode_responses`` must be off).
        keys: the key templates (their prefix isolates deployments and tests).
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._redis = sync(client)
        self._keys = keys
        self._insert = client.register_script(lua("insert_record"))
        self._update = client.register_script(lua("update_record"))
        self._transition = client.register_script(lua("transition_execution"))
        self._append = client.register_script(lua("append_history"))

    @classmethod
    def from_url(cls, url: str, prefix: str = "stepmap") -> RedisStore:
        """A store on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url), Keys(prefix))

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    # -- helpers --------------------------------------------------------------------------------

    def _insert_record(
        self, key: str, index: str, member: str, score: float, record: Mapping[str, Any]
    ) -> bool:
        pairs, _ = _split_fields(record)
        return bool(self._insert(keys=[key, index], args=[member, repr(float(score)), *pairs]))

    def _update_record(self, key: str, fields: Mapping[str, Any]) -> None:
        pairs, deletes = _split_fields(fields)
        self._update(keys=[key], args=[len(pairs) // 2, *pairs, len(deletes), *deletes])

    def _get_record(self, key: str) -> dict[str, Any] | None:
        raw = self._redis.hgetall(key)
        return _decode_record(raw) if raw else None

    def _iter_index(
        self, index: str, after: Cursor | None, reverse: bool, record_key: Any
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        """Walk a zset in (score, member) order from strictly after ``after``, with records."""
        offset = 0
        while True:
            if reverse:
                top = repr(after[0]) if after is not None else "+inf"
                rows = self._redis.zrevrangebyscore(
                    index, top, "-inf", start=offset, num=_BATCH, withscores=True
                )
            else:
                bottom = repr(after[0]) if after is not None else "-inf"
                rows = self._redis.zrangebyscore(
                    index, bottom, "+inf", start=offset, num=_BATCH, withscores=True
                )
            if not rows:
                return
            offset += len(rows)
            cursors = [(float(row[1]), _text(row[0])) for row in rows]
            if after is not None:
                # Same score as the cursor: members sort lexically (reversed when walking back).
                cursors = [
                    c
                    for c in cursors
                    if c[0] != after[0] or (c[1] < after[1] if reverse else c[1] > after[1])
                ]
            pipe = self._redis.pipeline(transaction=False)
            for _, member in cursors:
                pipe.hgetall(record_key(member))
            for cursor, raw in zip(cursors, pipe.execute(), strict=True):
                if raw:
                    yield cursor, _decode_record(raw)
            if len(rows) < _BATCH:
                return

    # -- state machines -------------------------------------------------------------------------

    def insert_state_machine(self, record: Mapping[str, Any]) -> bool:
        arn = record["stateMachineArn"]
        return self._insert_record(
            self._keys.state_machine(arn),
            self._keys.state_machine_index(),
            arn,
            record["creationDate"],
            record,
        )

    def get_state_machine(self, arn: str) -> dict[str, Any] | None:
        return self._get_record(self._keys.state_machine(arn))

    def update_state_machine(self, arn: str, fields: Mapping[str, Any]) -> None:
        self._update_record(self._keys.state_machine(arn), fields)

    def delete_state_machine(self, arn: str) -> None:
        pipe = self._redis.pipeline()
        pipe.delete(self._keys.state_machine(arn))
        pipe.zrem(self._keys.state_machine_index(), arn)
        pipe.execute()

    def iter_state_machines(
        self, after: Cursor | None = None
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        return self._iter_index(
            self._keys.state_machine_index(), after, False, self._keys.state_machine
        )

    # -- executions -----------------------------------------------------------------------------

    def insert_execution(self, record: Mapping[str, Any]) -> bool:
        arn = record["executionArn"]
        # Registered first: a process killed right after the insert leaves it findable.
        self._redis.zadd(self._keys.open_executions(), {arn: time.time()}, nx=True)
        return self._insert_record(
            self._keys.execution(arn),
            self._keys.state_machine_executions(record["stateMachineArn"]),
            arn,
            record["startDate"],
            record,
        )

    def get_execution(self, arn: str) -> dict[str, Any] | None:
        return self._get_record(self._keys.execution(arn))

    def stale_open_executions(self, before: float, limit: int) -> list[str]:
        raw = self._redis.zrangebyscore(self._keys.open_executions(), "-inf", before,
                                        start=0, num=limit)
        return [v.decode() if isinstance(v, bytes) else str(v) for v in raw]

    def touch_open_execution(self, arn: str, at: float) -> None:
        self._redis.zadd(self._keys.open_executions(), {arn: at}, xx=True)

    def drop_open_execution(self, arn: str) -> None:
        self._redis.zrem(self._keys.open_executions(), arn)

    def update_execution(self, arn: str, fields: Mapping[str, Any]) -> None:
        self._update_record(self._keys.execution(arn), fields)

    def transition_execution(
        self,
        arn: str,
        from_statuses: Collection[str],
        fields: Mapping[str, Any],
        event: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        if fields.get("status") == "RUNNING":  # a redrive: findable by the liveness sweep
            self._redis.zadd(self._keys.open_executions(), {arn: time.time()})
        pairs, deletes = _split_fields(fields)
        body = ""
        if event is not None:
            body = dumps({k: v for k, v in event.items() if k not in ("id", "previousEventId")})
        statuses = list(from_statuses)
        result = self._transition(
            keys=[self._keys.execution(arn), self._keys.history(arn)],
            args=[len(statuses), *statuses, len(pairs) // 2, *pairs, len(deletes), *deletes, body],
        )
        if not isinstance(result, list):
            return None
        flat = dict(zip(result[::2], result[1::2], strict=True))
        return _decode_record(flat)

    def iter_executions(
        self, state_machine_arn: str, after: Cursor | None = None
    ) -> Iterator[tuple[Cursor, dict[str, Any]]]:
        return self._iter_index(
            self._keys.state_machine_executions(state_machine_arn),
            after,
            True,
            self._keys.execution,
        )

    # -- history --------------------------------------------------------------------------------

    def append_history(
        self, arn: str, events: Sequence[Mapping[str, Any]], *, require_status: str | None = None
    ) -> bool:
        if not events and require_status is None:
            return True
        encoded = [dumps(dict(event)) for event in events]
        return bool(
            self._append(
                keys=[self._keys.execution(arn), self._keys.history(arn)],
                args=[require_status or "", *encoded],
            )
        )

    def history_length(self, arn: str) -> int:
        return int(self._redis.llen(self._keys.history(arn)))

    def get_history(self, arn: str, start: int, stop: int) -> list[dict[str, Any]]:
        start = max(start, 0)
        if stop <= start:
            return []
        raw = self._redis.lrange(self._keys.history(arn), start, stop - 1)
        return [json.loads(item) for item in raw]

    # -- checkpoints ----------------------------------------------------------------------------

    def get_checkpoint(self, arn: str) -> str | None:
        raw = self._redis.get(self._keys.checkpoint(arn))
        return _text(raw) if raw is not None else None

    def set_checkpoint(self, arn: str, checkpoint: str | None) -> None:
        if checkpoint is None:
            self._redis.delete(self._keys.checkpoint(arn))
        else:
            self._redis.set(self._keys.checkpoint(arn), checkpoint)

    # -- pagination tokens ----------------------------------------------------------------------

    def put_page_token(self, payload: Mapping[str, Any], ttl_seconds: int) -> str:
        token = uuid.uuid4().hex
        self._redis.set(self._keys.page_token(token), dumps(dict(payload)), ex=ttl_seconds)
        return token

    def get_page_token(self, token: str) -> dict[str, Any] | None:
        raw = self._redis.get(self._keys.page_token(token))
        return json.loads(raw) if raw is not None else None

"""Task tokens and activities in Redis: what a callback Task or an activity Task waits on.

A Task whose resource ends in ``.waitForTaskToken`` or names an activity does not finish when
it is started: it waits for ``SendTaskSuccess`` / ``SendTaskFailure`` with its task token, or
for a timer (``TimeoutSeconds``, ``HeartbeatSeconds``). The waiting state lives here, never in
a process: a token hash (``cb:{token}``) names the execution and the call sequence it answers,
the timers' clocks, and (once answered) the answer, a :class:`~orchestrator.messages.TaskReport`
in JSON. The first answer wins (``HSETNX``): a late ``SendTaskSuccess`` after a timeout, or a
second answer, is refused as ``TaskTimedOut``, as AWS does.

Activities are records (``act:{arn}``), an index by creation time, and one FIFO list of task
tokens per activity that ``GetActivityTask`` pops.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any, Protocol, cast

import redis

from orchestrator.store.keys import Keys

#: An answered token is kept this long (so a late answer reads ``TaskTimedOut``).
ANSWERED_TTL_SECONDS = 86_400


class _Commands(Protocol):
    """The redis-py commands used here, typed as a sync client answers them."""

    def exists(self, *names: str) -> int: ...
    def get(self, name: str) -> bytes | None: ...
    def set(self, name: str, value: str, nx: bool = ...) -> bool | None: ...
    def hgetall(self, name: str) -> dict[bytes, bytes]: ...
    def hset(self, name: str, key: str | None = ..., value: str | float | None = ...,
             mapping: dict[str, Any] | None = ...) -> int: ...
    def hsetnx(self, name: str, key: str, value: str) -> int: ...
    def expire(self, name: str, time: int) -> bool: ...
    def delete(self, *names: str) -> int: ...
    def rpush(self, name: str, *values: str) -> int: ...
    def lpop(self, name: str) -> bytes | None: ...
    def zadd(self, name: str, mapping: dict[str, float], nx: bool = ...) -> int: ...
    def zrem(self, name: str, *values: str) -> int: ...
    def zrangebyscore(self, name: str, min: float | str, max: float | str,
                      start: int | None = ..., num: int | None = ...,
                      withscores: bool = ...) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One task token as stored.

    Attributes:
        token: the token text.
        execution_arn: the execution (parent, or hosted Map Run child) whose call it answers.
        sequence: the call's sequence number in that execution's journal.
        state_name: the Task state's name.
        created: epoch seconds when the call started (``TimeoutSeconds`` counts from here).
        last_beat: epoch seconds of the last heartbeat (or the start, or the activity pickup).
        timeout: ``TimeoutSeconds`` (None: no limit).
        heartbeat: ``HeartbeatSeconds`` (None: no heartbeat required).
        activity_arn: the activity the task waits in, for activity Tasks.
        answer: the TaskReport JSON once answered, else None.
    """

    token: str
    execution_arn: str
    sequence: int
    state_name: str
    created: float
    last_beat: float
    timeout: int | None
    heartbeat: int | None
    activity_arn: str | None
    answer: str | None
    input: str | None = None
    #: The nested execution a ``states:startExecution`` call started (control/nested.py).
    child: str | None = None


def _optional_int(raw: bytes | None) -> int | None:
    return int(raw) if raw else None


class CallbackStore:
    """Task tokens and activities on one Redis database (see the module docstring)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = cast(_Commands, client)
        self.keys = keys

    @classmethod
    def from_url(cls, url: str, prefix: str = "stepmap") -> CallbackStore:
        """A store on a new client for ``url``."""
        return cls(redis.Redis.from_url(url), Keys(prefix))

    # -- task tokens ------------------------------------------------------------------------------
    def register(self, token: str, execution_arn: str, sequence: int, *, state_name: str,
                 timeout: int | None, heartbeat: int | None, activity_arn: str | None = None,
                 input_text: str | None = None, now: float | None = None) -> bool:
        """Record a waiting call; False if this call already waits on a token (a replayed start).

        A call whose token was answered is made again only by a redrive (the engine consumes
        an answer before it makes its next call): its old token is replaced.
        """
        index = self.keys.callback_of_call(execution_arn, sequence)
        if not self.r.set(index, token, nx=True):
            old = self.r.get(index)
            previous = self.get(old.decode()) if old is not None else None
            if previous is not None and previous.answer is None:
                return False
            if previous is not None:
                self.r.delete(self.keys.callback(previous.token))
            self.r.set(index, token)
        stamp = time.time() if now is None else now
        fields: dict[str, Any] = {
            "arn": execution_arn, "seq": sequence, "state": state_name, "created": stamp,
            "beat": stamp, "timeout": timeout or "", "heartbeat": heartbeat or "",
            "activity": activity_arn or "", "input": input_text or "",
        }
        self.r.hset(self.keys.callback(token), mapping=fields)
        return True

    def get(self, token: str) -> TokenRecord | None:
        """The token's record, or None if no call waits (or waited) on it."""
        raw = self.r.hgetall(self.keys.callback(token))
        if not raw or b"arn" not in raw:
            return None
        answer = raw.get(b"answer")
        return TokenRecord(
            token=token, execution_arn=raw[b"arn"].decode(), sequence=int(raw[b"seq"]),
            state_name=raw.get(b"state", b"").decode(), created=float(raw[b"created"]),
            last_beat=float(raw[b"beat"]), timeout=_optional_int(raw.get(b"timeout")),
            heartbeat=_optional_int(raw.get(b"heartbeat")),
            activity_arn=raw.get(b"activity", b"").decode() or None,
            answer=answer.decode() if answer is not None else None,
            input=raw.get(b"input", b"").decode() or None,
            child=raw.get(b"child", b"").decode() or None,
        )

    def token_of_call(self, execution_arn: str, sequence: int) -> str | None:
        """The token a call of an execution waits on, if it is a callback or activity call."""
        raw = self.r.get(self.keys.callback_of_call(execution_arn, sequence))
        return raw.decode() if raw is not None else None

    def answer(self, token: str, report_json: str) -> bool:
        """Answer a waiting token; False if it was answered (or timed out) before."""
        key = self.keys.callback(token)
        if not self.r.hsetnx(key, "answer", report_json):
            return False
        self.r.expire(key, ANSWERED_TTL_SECONDS)
        return True

    def attach_child(self, token: str, execution_arn: str) -> None:
        """Record the nested execution a waiting ``states:startExecution`` call started."""
        self.r.hset(self.keys.callback(token), "child", execution_arn)

    def answer_of_call(self, execution_arn: str, sequence: int) -> str | None:
        """The answer (TaskReport JSON) of a call waiting on a token, once there is one."""
        token = self.token_of_call(execution_arn, sequence)
        if token is None:
            return None
        record = self.get(token)
        return record.answer if record is not None else None

    def beat(self, token: str, now: float | None = None) -> None:
        """A heartbeat: the ``HeartbeatSeconds`` clock starts again."""
        self.r.hset(self.keys.callback(token), "beat", time.time() if now is None else now)

    # -- activities -------------------------------------------------------------------------------
    def create_activity(self, arn: str, name: str, now: float) -> dict[str, Any]:
        """Create an activity, or return the one of that ARN (CreateActivity is idempotent)."""
        key = self.keys.activity(arn)
        self.r.hsetnx(key, "creationDate", repr(now))
        self.r.hset(key, mapping={"activityArn": arn, "name": name})
        self.r.zadd(self.keys.activity_index(), {arn: now}, nx=True)
        found = self.get_activity(arn)
        assert found is not None
        return found

    def get_activity(self, arn: str) -> dict[str, Any] | None:
        """``{"activityArn", "name", "creationDate"}`` or None."""
        raw = self.r.hgetall(self.keys.activity(arn))
        if not raw or b"name" not in raw:
            return None
        return {"activityArn": raw[b"activityArn"].decode(), "name": raw[b"name"].decode(),
                "creationDate": float(raw[b"creationDate"])}

    def list_activities(self, after: tuple[float, str] | None, limit: int) -> list[dict[str, Any]]:
        """Activities by creation time, from after ``after`` (score, ARN), at most ``limit``."""
        low: float | str = "-inf" if after is None else after[0]
        rows = self.r.zrangebyscore(self.keys.activity_index(), low, "+inf",
                                    start=0, num=limit + 64, withscores=True)
        found: list[dict[str, Any]] = []
        for member, score in rows:
            arn = member.decode()
            if after is not None and (score, arn) <= after:
                continue
            record = self.get_activity(arn)
            if record is not None:
                found.append(record)
            if len(found) == limit:
                break
        return found

    def delete_activity(self, arn: str) -> None:
        """Delete an activity and its queue of tasks not yet taken."""
        self.r.delete(self.keys.activity(arn), self.keys.activity_tasks(arn))
        self.r.zrem(self.keys.activity_index(), arn)

    def offer(self, activity_arn: str, token: str) -> None:
        """Queue a task token for the activity's workers."""
        self.r.rpush(self.keys.activity_tasks(activity_arn), token)

    def take(self, activity_arn: str) -> TokenRecord | None:
        """Pop the oldest task of an activity that still waits (answered ones are dropped)."""
        while True:
            raw = self.r.lpop(self.keys.activity_tasks(activity_arn))
            if raw is None:
                return None
            record = self.get(raw.decode())
            if record is not None and record.answer is None:
                now = time.time()
                self.beat(record.token, now)  # the heartbeat clock starts when a worker takes it
                return replace(record, last_beat=now)


def report_json(execution_arn: str, sequence: int, *, output: Any = None,
                error: str | None = None, cause: str | None = None) -> str:
    """A TaskReport-shaped answer (``ok`` with ``result``, or ``error``/``cause``)."""
    ok = error is None
    body: dict[str, Any] = {"execution_arn": execution_arn, "sequence": sequence, "ok": ok,
                            "result": output if ok else None, "error": error, "cause": cause}
    return json.dumps(body, separators=(",", ":"))

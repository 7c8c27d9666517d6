"""Redis :class:`~orchestrator.store.maprun_base.MapRunStore` (key templates in :mod:`.keys`).

Every multi-key step is atomic: the feeder's chunk and a redrive are MULTI/EXEC transactions;
granting permits, recording outcomes and aborting are Lua scripts (``store/lua/*.lua``, shipped
as package data and registered once per client), each one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from orchestrator.jsontext import dumps, dumps_stored, loads
from orchestrator.messages import ChildOutcome
from orchestrator.statuses import UNSUCCESSFUL, ChildStatus, MapRunStatus
from orchestrator.store.sync_redis import sync
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_base import (
    AdmissionState,
    ChildRecord,
    FeedChunk,
    Grant,
    Grants,
    Lease,
    LedgerKeys,
    RecordedOutcome,
    Segment,
    admission_order,
)
from orchestrator.store.maprun_record import Closing, Counters, MapRun
from orchestrator.store.result_stream import ResultStream
from orchestrator.store.permits import index_of
from orchestrator.store.scripts import lua

#: A parent Task's result is kept this long (its execution reads it when it advances).
TASK_RESULT_TTL = 7 * 24 * 3600
#: A sent mark outlives the longest wait of a call (a STANDARD execution runs a year at most).
TASK_SENT_TTL = 367 * 24 * 3600


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(values: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """A hash mapping in the type redis-py asks for."""
    return {name: value for name, value in values.items()}


class RedisMapRunStore:
    """A :class:`MapRunStore` in Redis.

    Args:
        client: a Redis client (``decode_responses`` must be off).
        keys: the key templates (their prefix isolates deployments and tests).
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = sync(client)
        self._keys = keys
        # One script: the rate-limit and pool functions, then the grant that calls them.
        self._grant = client.register_script(lua("grant_limits") + "\n" + lua("grant_permits"))
        self._record = client.register_script(lua("record_outcomes"))
        self._abort = client.register_script(lua("abort_running"))
        self._park = client.register_script(lua("park_permits"))
        self._renew_lease = client.register_script(lua("renew_lease"))
        self._release_lease = client.register_script(lua("release_lease"))
        self._admit = client.register_script(lua("admit_runs"))
        self._pause = client.register_script(lua("pause_run"))

    @classmethod
    def from_url(cls, url: str, prefix: str = "stepmap") -> RedisMapRunStore:
        """A store on the Redis server at ``url``."""
        return cls(redis.Redis.from_url(url), Keys(prefix))

    def processor_key(self, digest: str) -> str:
        return self._keys.processor(digest)

    def ledger_keys(self, arn: str) -> LedgerKeys:
        k = self._keys
        return LedgerKeys(semaphore=k.map_run_semaphore(arn), status=k.map_run_status(arn),
                          control=k.map_run(arn), outbox=k.map_run_outbox(arn),
                          journal=k.map_run_journals(arn), claims=k.map_run_claims(arn),
                          inputs=k.map_run_inputs(arn))

    # -- the run ---------------------------------------------------------------------------
    def create(self, run: MapRun, processor_json: str) -> None:
        k = self._keys
        pipe = self._r.pipeline(transaction=True)
        pipe.set(run.processor_key, processor_json)
        pipe.hset(k.map_run(run.arn), mapping=_fields(run.to_fields()))
        pipe.hset(k.map_run_counters(run.arn), mapping={"i.total": 0, "e.total": 0})
        pipe.zadd(k.execution_map_runs(run.execution_arn), {run.arn: run.start_date})
        if run.status is MapRunStatus.QUEUED:
            # Back of its key's FIFO queue; a key new to the ring takes the last turn.
            pipe.zadd(k.admission_ring(), {run.admission_key: int(run.start_date * 1000)},
                      nx=True)
            pipe.rpush(k.admission_queue(run.admission_key), run.arn)
        else:
            pipe.zadd(k.open_map_runs(), {run.arn: run.start_date})
        self._join_pools(pipe, run.arn, run.pools)
        pipe.execute()

    def _join_pools(self, pipe: Any, arn: str, pools: Sequence[str]) -> None:
        """Make an open Map Run a member of its pools (the grant script counts its permits)."""
        k = self._keys
        member = f"{k.map_run_semaphore(arn)}\t{k.map_run_queue(arn)}\t{k.map_run(arn)}"
        for name in pools:
            pipe.hset(k.pool_runs(name), arn, member)

    def _pools_of(self, arn: str) -> list[str]:
        raw = self._r.hget(self._keys.map_run(arn), "pools")
        return [p for p in _text(raw).split(",") if p] if raw is not None else []

    def set_rates(self, arn: str, *, items_per_second: float | None,
                  children_per_second: float | None) -> None:
        key = self._keys.map_run(arn)
        pipe = self._r.pipeline(transaction=True)
        for name, value in (("itemsPerSecond", items_per_second),
                            ("childrenPerSecond", children_per_second)):
            if value is None:
                pipe.hdel(key, name)
            else:
                pipe.hset(key, name, repr(float(value)))
        pipe.execute()

    def get(self, arn: str) -> MapRun | None:
        raw = self._r.hgetall(self._keys.map_run(arn))
        if not raw:
            return None
        return MapRun.from_fields({_text(k): _text(v) for k, v in raw.items()})

    def status(self, arn: str) -> MapRunStatus | None:
        raw = self._r.hget(self._keys.map_run(arn), "status")
        return MapRunStatus(_text(raw)) if raw is not None else None

    def update_limits(self, arn: str, *, max_concurrency: int | None = None,
                      limit: int | None = None, tolerated_failure_count: int | None = None,
                      tolerated_failure_percentage: float | None = None) -> None:
        fields: dict[str, str] = {}
        if max_concurrency is not None:
            fields["maxConcurrency"] = str(max_concurrency)
        if limit is not None:
            fields["limit"] = str(limit)
        if tolerated_failure_count is not None:
            fields["toleratedFailureCount"] = dumps(int(tolerated_failure_count))
        if tolerated_failure_percentage is not None:
            fields["toleratedFailurePercentage"] = dumps(float(tolerated_failure_percentage))
        if fields:
            self._r.hset(self._keys.map_run(arn), mapping=_fields(fields))

    def begin_closing(self, arn: str, closing: Closing) -> None:
        self._r.hset(self._keys.map_run(arn), mapping=_fields({
            "status": MapRunStatus.CLOSING.value, "closing": closing.to_json()}))

    def finish(self, arn: str, status: MapRunStatus, *, stop_date: float,
               result: str | None = None, error: str | None = None,
               cause: str | None = None) -> None:
        k = self._keys
        key = self._r.hget(k.map_run(arn), "admissionKey")
        fields = {"status": status.value, "stopDate": repr(stop_date)}
        if result is not None:
            fields["result"] = result
        if error is not None:
            fields.update(error=error, cause=cause or "")
        pools = self._pools_of(arn)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(k.map_run(arn), mapping=_fields(fields))
        pipe.zrem(k.open_map_runs(), arn)
        if key is not None:  # a queued run that was aborted leaves the backlog
            pipe.lrem(k.admission_queue(_text(key)), 0, arn)
        # Claims name permits of this run's deliveries; the run holds no permit any more.
        pipe.delete(k.map_run_segments(arn), k.map_run_claims(arn))
        for name in pools:
            pipe.hdel(k.pool_runs(name), arn)
        pipe.execute()

    def redrive(self, arn: str, *, now: float) -> int:
        k = self._keys
        statuses = {_text(i): _text(st) for i, st in self._r.hgetall(k.map_run_status(arn)).items()}
        again = sorted(int(i) for i, st in statuses.items() if st in UNSUCCESSFUL)
        items = sum(self.child_weights(arn, again))
        count = int(self._r.hget(k.map_run(arn), "redriveCount") or 0) + 1
        pipe = self._r.pipeline(transaction=True)
        if again:
            pipe.hdel(k.map_run_status(arn), *[str(i) for i in again])
            # marks of permits a late record absorbed (record_outcomes.lua): none is left once
            # the run closed, but a run anew must not inherit one
            pipe.hdel(k.map_run_inputs(arn), *[f"a:{i}" for i in again])
            pipe.zadd(k.map_run_queue(arn), {str(i): i for i in again})
            pipe.hincrby(k.map_run_counters(arn), "i.dispatched", -items)
            pipe.hincrby(k.map_run_counters(arn), "e.dispatched", -len(again))
        for kind in ("i", "e"):
            for status in sorted(UNSUCCESSFUL):
                pipe.hset(k.map_run_counters(arn), f"{kind}.{status.value}", "0")
        pipe.hdel(k.map_run(arn), "stopDate", "error", "cause", "closing", "result")
        pipe.hset(k.map_run(arn), mapping=_fields({"status": MapRunStatus.RUNNING.value,
                                                   "redriveCount": str(count),
                                                   "redriveDate": repr(now)}))
        pipe.delete(k.map_run_finalize_lock(arn), k.map_run_claims(arn), k.map_run_stream(arn))
        pipe.zadd(k.open_map_runs(), {arn: now})
        self._join_pools(pipe, arn, self._pools_of(arn))
        pipe.execute()
        return count

    def counters(self, arn: str) -> tuple[Counters, Counters]:
        raw = {_text(k): _text(v)
               for k, v in self._r.hgetall(self._keys.map_run_counters(arn)).items()}
        return Counters.from_hash(raw, "i"), Counters.from_hash(raw, "e")

    # -- pause and admission ---------------------------------------------------------------
    def pause(self, arn: str, *, now: float) -> bool:
        return bool(self._pause(keys=[self._keys.map_run(arn)], args=["pause", repr(now)]))

    def resume(self, arn: str, *, now: float) -> bool:
        return bool(self._pause(keys=[self._keys.map_run(arn)], args=["resume", repr(now)]))

    def admit(self, default_limit: int, *, now: float) -> list[str]:
        k = self._keys
        out = self._admit(
            keys=[k.open_map_runs(), k.admission_ring(), k.admission_limit()],
            args=[default_limit, int(now * 1000), k.admission_queue(""), k.map_run("")],
        )
        return [_text(a) for a in out]

    def _backlog_queues(self) -> list[list[str]]:
        k = self._keys
        ring = [_text(key) for key in self._r.zrange(k.admission_ring(), 0, -1)]
        pipe = self._r.pipeline(transaction=True)
        for key in ring:
            pipe.lrange(k.admission_queue(key), 0, -1)
        return [[_text(a) for a in queue] for queue in pipe.execute()]

    def admission(self) -> AdmissionState:
        k = self._keys
        override = self._r.get(k.admission_limit())
        return AdmissionState(open=int(self._r.zcard(k.open_map_runs())),
                              queued=admission_order(self._backlog_queues()),
                              limit_override=int(override) if override is not None else None)

    def set_open_limit(self, limit: int | None) -> None:
        if limit is None:
            self._r.delete(self._keys.admission_limit())
        else:
            self._r.set(self._keys.admission_limit(), str(int(limit)))

    def list_for_execution(self, execution_arn: str) -> list[str]:
        return [_text(a) for a in
                self._r.zrange(self._keys.execution_map_runs(execution_arn), 0, -1)]

    def open_runs(self) -> list[str]:
        return [_text(a) for a in self._r.zrange(self._keys.open_map_runs(), 0, -1)]

    def processor(self, key: str) -> str | None:
        raw = self._r.get(key)
        return _text(raw) if raw is not None else None

    # -- feeding ---------------------------------------------------------------------------
    def queue_length(self, arn: str) -> int:
        return int(self._r.zcard(self._keys.map_run_queue(arn)))

    def append_children(self, arn: str, chunk: FeedChunk) -> None:
        k = self._keys
        pipe = self._r.pipeline(transaction=True)
        inputs: dict[str, str] = {}
        queue: dict[str, float] = {}
        items_total = 0
        for child in chunk.ready:
            inputs[str(child.index)] = child.input_json
            if child.items != 1:
                inputs[f"w:{child.index}"] = str(child.items)
            queue[str(child.index)] = child.index
            items_total += child.items
            pipe.set(k.child(child.name), f"{arn}|{child.index}")
        for failed in chunk.failed:
            inputs[str(failed.index)] = "null"
            pipe.hsetnx(k.map_run_status(arn), str(failed.index), failed.record.status.value)
            pipe.hset(k.map_run_children(arn), str(failed.index), failed.record.to_json())
            for kind in ("i", "e"):
                pipe.hincrby(k.map_run_counters(arn), f"{kind}.{failed.record.status.value}", 1)
                pipe.hincrby(k.map_run_counters(arn), f"{kind}.dispatched", 1)
            items_total += 1
            pipe.set(k.child(failed.record.name), f"{arn}|{failed.index}")
        if inputs:
            pipe.hset(k.map_run_inputs(arn), mapping=_fields(inputs))
        if queue:
            pipe.zadd(k.map_run_queue(arn), queue)
        pipe.hincrby(k.map_run_counters(arn), "i.total", items_total)
        pipe.hincrby(k.map_run_counters(arn), "e.total", len(chunk.ready) + len(chunk.failed))
        fields = {"feedState": chunk.feed.to_json()}
        if chunk.reader_done:
            fields["readerDone"] = "1"
        pipe.hset(k.map_run(arn), mapping=_fields(fields))
        pipe.execute()

    # -- permits ---------------------------------------------------------------------------
    def grant(self, arn: str, *, now_ms: int, lease_ms: int, max_children: int, tag: str,
              max_bytes: int, burst_seconds: float = 0.1) -> Grants:
        k = self._keys
        out = self._grant(
            keys=[k.map_run_semaphore(arn), k.map_run_queue(arn), k.map_run(arn),
                  k.map_run_inputs(arn), k.map_run_status(arn), k.map_run_counters(arn),
                  k.map_run_outbox(arn)],
            args=[now_ms, lease_ms, max_children, tag, max_bytes, k.pool_base(),
                  repr(float(burst_seconds))],
        )
        late_raw = out[1]
        late = [(int(late_raw[i]), _text(late_raw[i + 1])) for i in range(0, len(late_raw), 2)]
        info = out[2]
        rest = out[3:]
        granted = [Grant(index=int(rest[i]), holder=_text(rest[i + 1]), input=_text(rest[i + 2]))
                   for i in range(0, len(rest), 3)]
        return Grants(reclaimed=int(out[0]), late=late, granted=granted,
                      retry_ms=int(info[0]) if info else 0,
                      wake=[_text(a) for a in info[1:]])

    def renew_permits(self, arn: str, holders: Sequence[str], expiry_ms: int) -> int:
        if not holders:
            return 0
        renewed = self._r.zadd(self._keys.map_run_semaphore(arn),
                               {h: expiry_ms for h in holders}, xx=True, ch=True)
        return int(renewed or 0)

    def park_permits(self, arn: str, holders: Sequence[str], expiry_ms: int) -> int:
        if not holders:
            return 0
        k = self._keys
        return int(self._park(keys=[k.map_run_semaphore(arn), k.map_run_claims(arn)],
                              args=[expiry_ms, *holders]))

    def hold_permit(self, arn: str, holder: str, expiry_ms: int) -> None:
        self._r.zadd(self._keys.map_run_semaphore(arn), {holder: expiry_ms})

    def parked_holders(self, arn: str, after_ms: int, until_ms: int) -> list[str]:
        raw = self._r.zrangebyscore(self._keys.map_run_semaphore(arn), f"({after_ms}", until_ms)
        return [_text(h) for h in raw]

    def running_indexes(self, arn: str) -> list[int]:
        holders = self._r.zrange(self._keys.map_run_semaphore(arn), 0, -1)
        return sorted({index_of(_text(h)) for h in holders})

    def abort_running(self, arn: str) -> list[int]:
        k = self._keys
        out = self._abort(keys=[k.map_run_status(arn), k.map_run_counters(arn),
                                k.map_run_semaphore(arn), k.map_run_inputs(arn)],
                          args=[ChildStatus.ABORTED.value])
        return [int(i) for i in out]

    # -- outcomes --------------------------------------------------------------------------
    def record_outcomes(self, arn: str, outcomes: Sequence[RecordedOutcome]) -> list[int]:
        if not outcomes:
            return []
        k = self._keys
        args: list[str | int] = [len(outcomes)]
        by_index: dict[int, RecordedOutcome] = {}
        for o in outcomes:
            args += [o.index, o.holder, o.record.status.value, o.record.to_json()]
            by_index[o.index] = o
        fresh = [int(i) for i in self._record(
            keys=[k.map_run_status(arn), k.map_run_counters(arn), k.map_run_semaphore(arn),
                  k.map_run_children(arn), k.map_run_inputs(arn), k.map_run_queue(arn),
                  k.map_run_outbox(arn)],
            args=args,
        )]
        histories = [by_index[i] for i in fresh if by_index[i].history]
        if histories:
            pipe = self._r.pipeline(transaction=False)
            prefix = _text(self._r.hget(k.map_run(arn), "executionPrefix") or b"")
            for outcome in histories:
                pipe.rpush(k.history(prefix + outcome.record.name),
                           *[dumps_stored(e) for e in outcome.history or []])
            pipe.execute()
        return fresh

    def late_outcomes(self, arn: str, indexes: Sequence[int]) -> list[ChildOutcome | None]:
        if not indexes:
            return []
        raw = self._r.hmget(self._keys.map_run_outbox(arn), [str(i) for i in indexes])
        return [ChildOutcome.model_validate_json(t) if t is not None else None for t in raw]

    # -- segments --------------------------------------------------------------------------
    def add_segment(self, arn: str, segment: str, segment_info: Segment) -> None:
        text = f"{segment_info.sent_at:.3f}|" + ",".join(str(i) for i in segment_info.indexes)
        self._r.hset(self._keys.map_run_segments(arn), segment, text)

    def segments(self, arn: str) -> dict[str, Segment]:
        out: dict[str, Segment] = {}
        for segment, raw in self._r.hgetall(self._keys.map_run_segments(arn)).items():
            sent, _, indexes = _text(raw).partition("|")
            out[_text(segment)] = Segment(float(sent), [int(i) for i in indexes.split(",") if i])
        return out

    def remove_segment(self, arn: str, segment: str) -> None:
        self._r.hdel(self._keys.map_run_segments(arn), segment)

    # -- children --------------------------------------------------------------------------
    def _hmget(self, key: str, fields: Sequence[str]) -> list[str | None]:
        if not fields:
            return []
        return [_text(v) if v is not None else None for v in self._r.hmget(key, list(fields))]

    def child_statuses(self, arn: str, indexes: Sequence[int]) -> list[ChildStatus | None]:
        raw = self._hmget(self._keys.map_run_status(arn), [str(i) for i in indexes])
        return [ChildStatus(v) if v is not None else None for v in raw]

    def child_records(self, arn: str, indexes: Sequence[int]) -> list[ChildRecord | None]:
        raw = self._hmget(self._keys.map_run_children(arn), [str(i) for i in indexes])
        return [ChildRecord.from_json(v) if v is not None else None for v in raw]

    def child_inputs(self, arn: str, indexes: Sequence[int]) -> list[str | None]:
        return self._hmget(self._keys.map_run_inputs(arn), [str(i) for i in indexes])

    def child_weights(self, arn: str, indexes: Sequence[int]) -> list[int]:
        raw = self._hmget(self._keys.map_run_inputs(arn), [f"w:{i}" for i in indexes])
        return [int(v) if v else 1 for v in raw]

    def child_location(self, name: str) -> tuple[str, int] | None:
        value = self._r.get(self._keys.child(name))
        if value is None:
            return None
        arn, _, index = _text(value).rpartition("|")
        return arn, int(index)

    def child_history(self, child_arn: str) -> list[dict[str, Any]]:
        return [loads(e) for e in self._r.lrange(self._keys.history(child_arn), 0, -1)]

    # -- result files streamed while children run -----------------------------------------
    def result_stream(self, arn: str) -> ResultStream | None:
        raw = self._r.get(self._keys.map_run_stream(arn))
        return ResultStream.from_json(raw) if raw is not None else None

    def save_result_stream(self, arn: str, stream: ResultStream) -> None:
        self._r.set(self._keys.map_run_stream(arn), stream.to_json())

    # -- leases and parent task results ----------------------------------------------------
    def _lease_key(self, lease: Lease, subject: str) -> str:
        k = self._keys
        keys: Mapping[Lease, str] = {
            Lease.FEED: k.map_run_feed_lock(subject),
            Lease.FINALIZE: k.map_run_finalize_lock(subject),
            Lease.WRITE: k.map_run_write_lock(subject),
            Lease.ADVANCE: k.execution_lock(subject),
            Lease.RECONCILE: k.reconcile_lock(),
        }
        return keys[lease]

    def acquire_lease(self, lease: Lease, subject: str, token: str, ttl_ms: int) -> bool:
        return bool(self._r.set(self._lease_key(lease, subject), token, nx=True, px=ttl_ms))

    def renew_lease(self, lease: Lease, subject: str, token: str, ttl_ms: int) -> bool:
        return bool(self._renew_lease(keys=[self._lease_key(lease, subject)], args=[token, ttl_ms]))

    def release_lease(self, lease: Lease, subject: str, token: str) -> None:
        self._release_lease(keys=[self._lease_key(lease, subject)], args=[token])

    def lease_held(self, lease: Lease, subject: str) -> bool:
        return bool(self._r.exists(self._lease_key(lease, subject)))

    def begin_advance(self, execution_arn: str) -> int:
        key = self._keys.advance_attempts(execution_arn)
        pipe = self._r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, TASK_RESULT_TTL)
        return int(pipe.execute()[0])

    def end_advance(self, execution_arn: str) -> None:
        self._r.delete(self._keys.advance_attempts(execution_arn))

    def put_task_result(self, execution_arn: str, sequence: int, report_json: str) -> None:
        self._r.set(self._keys.task_result(execution_arn, sequence), report_json,
                    ex=TASK_RESULT_TTL)

    def get_task_result(self, execution_arn: str, sequence: int) -> str | None:
        raw = self._r.get(self._keys.task_result(execution_arn, sequence))
        return _text(raw) if raw is not None else None

    def forget_task_result(self, execution_arn: str, sequence: int) -> None:
        self._r.delete(self._keys.task_result(execution_arn, sequence))

    def mark_task_sent(self, execution_arn: str, sequence: int, redrive: int) -> None:
        self._r.set(self._keys.task_sent(execution_arn, sequence), str(redrive),
                    ex=TASK_SENT_TTL)

    def task_sent(self, execution_arn: str, sequence: int) -> int | None:
        raw = self._r.get(self._keys.task_sent(execution_arn, sequence))
        return int(raw) if raw is not None else None


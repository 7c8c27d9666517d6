"""The feeder: streams items from the ItemReader into the Map Run's dispatch window.

One feeder runs per Map Run at a time (a Redis lock). It reads items, applies ItemSelector
and ItemBatcher, and stores child inputs in Redis until the window (a bound on undispatched
children, not on items) is full, then stops; the dispatcher calls it again when the window
drains. Each chunk of children is written together with the reader's cursor in one Redis
transaction, so a restarted orchestrator continues exactly where the last chunk ended
(ARCHITECTURE invariants 6 and 7: nothing lost, memory bounded by the window).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from orchestrator import messages
from orchestrator.asl import StatesError, compile_item_selector
from orchestrator.maprun.batching import Batch, Batcher
from orchestrator.maprun.context import MapRunContext, child_name

log = logging.getLogger(__name__)

#: A chunk of children is written (with the cursor) when it holds this many children or items.
CHUNK = 500
CHUNK_ITEMS = 20_000
#: One feeder call reads at most this many items, then hands over to a fresh call, so that
#: dispatching and feeding interleave on the control workers.
ITEMS_PER_CALL = 200_000
LOCK_MS = 120_000


class Feeder:
    """Fills one Map Run's window; call :meth:`run` (idempotent, lock-protected)."""

    def __init__(self, ctx: MapRunContext, arn: str) -> None:
        self.ctx = ctx
        self.arn = arn
        self.keys = ctx.keys

    def run(self) -> bool:
        """Feed until the window is full or the items end. Returns False if another feeder runs."""
        token = uuid.uuid4().hex
        lock = self.keys.map_run_feed_lock(self.arn)
        if not self.ctx.redis.set(lock, token, nx=True, px=LOCK_MS):
            return False
        try:
            self._feed()
        finally:
            if (self.ctx.redis.get(lock) or b"").decode() == token:
                self.ctx.redis.delete(lock)
        return True

    def _feed(self) -> None:
        from orchestrator.readers import open_items

        rec = self.ctx.store.get(self.arn)
        if rec is None or rec["status"] != "RUNNING" or rec.get("readerDone") == "1":
            return
        window = int(rec["window"])
        room = window - int(self.ctx.redis.zcard(self.keys.map_run_queue(self.arn)))
        if room <= 0:
            return
        request = json.loads(rec["request"])
        state = json.loads(rec.get("feedState") or "null") or {"cursor": None, "next": 0, "carried": []}
        selector = request.get("item_selector")
        template = (compile_item_selector(selector, request.get("query_language", "JSONPath"),
                                          request.get("item_selector_variables"))
                    if selector is not None else None)
        base_context = request.get("context") or {}
        effective_input = request.get("effective_input")
        batcher = Batcher(request.get("batcher"))
        batcher.restore(state["carried"])
        next_index = int(state["next"])
        map_run_id = rec["mapRunId"]

        stream = open_items(request.get("reader"), request.get("items"), self.ctx.s3,
                            cursor=state["cursor"])
        pending: list[Batch] = []
        failed: list[tuple[int, dict[str, str]]] = []
        produced = chunk_items = items_read = 0
        done = True
        more = False
        try:
            for item in stream:
                items_read += 1
                if template is not None:
                    item_ctx = dict(base_context)
                    map_item: dict[str, Any] = {"Index": item.index, "Value": item.value,
                                                "Source": item.source}
                    if item.key is not None:
                        map_item["Key"] = item.key
                    item_ctx["Map"] = {"Item": map_item}
                    try:
                        value = template.evaluate(effective_input, item_ctx)
                    except StatesError as exc:
                        # A malformed item fails only its own child (invariant 9).
                        failed.append((next_index + len(pending) + len(failed), exc.to_dict()))
                        continue
                else:
                    value = item.value
                for batch in batcher.add(value):
                    pending.append(batch)
                    chunk_items += batch.items
                if len(pending) + len(failed) >= CHUNK or chunk_items >= CHUNK_ITEMS:
                    next_index = self._flush(pending, failed, next_index, map_run_id, stream, batcher)
                    produced += len(pending) + len(failed)
                    pending, failed, chunk_items = [], [], 0
                    # Children are ready: dispatch them while this call reads on.
                    self.ctx.send_control(messages.MAP_RUN_DISPATCH, self.arn)
                    if produced >= room or items_read >= ITEMS_PER_CALL:
                        done = False
                        more = produced < room
                        break
            if done:
                pending.extend(batcher.flush())
        finally:
            stream.close()
        next_index = self._flush(pending, failed, next_index, map_run_id, stream, batcher,
                                 reader_done=done)
        if more:
            self.ctx.send_control(messages.MAP_RUN_FEED, self.arn)
        log.info("map run %s: fed up to child %d (reader done: %s)", self.arn, next_index, done)

    def _flush(self, pending: list[Batch], failed: list[tuple[int, dict[str, str]]],
               next_index: int, map_run_id: str, stream: Any, batcher: Batcher,
               *, reader_done: bool = False) -> int:
        keys, arn = self.keys, self.arn
        pipe = self.ctx.redis.pipeline(transaction=True)
        items_total = 0
        queue: dict[str, float] = {}
        inputs: dict[str, str] = {}
        failed_at = {index for index, _ in failed}
        failed_iter = iter(failed)
        batches = iter(pending)
        index = next_index
        count = len(pending) + len(failed)
        for _ in range(count):
            if index in failed_at:
                _, error = next(failed_iter)
                now = time.time()
                name = child_name(map_run_id, index)
                record = {"name": name, "status": "FAILED", "start": now, "stop": now,
                          "error": error["Error"], "cause": error["Cause"]}
                inputs[str(index)] = "null"
                pipe.hsetnx(keys.map_run_status(arn), str(index), "FAILED")
                pipe.hset(keys.map_run_children(arn), str(index), json.dumps(record))
                for kind in ("i", "e"):
                    pipe.hincrby(keys.map_run_counters(arn), f"{kind}.FAILED", 1)
                    pipe.hincrby(keys.map_run_counters(arn), f"{kind}.dispatched", 1)
                items_total += 1
            else:
                batch = next(batches)
                inputs[str(index)] = batch.input_json
                if batch.items != 1:
                    inputs[f"w:{index}"] = str(batch.items)
                queue[str(index)] = index
                items_total += batch.items
            pipe.set(keys.child(child_name(map_run_id, index)), f"{arn}|{index}")
            index += 1
        if inputs:
            pipe.hset(keys.map_run_inputs(arn), mapping=inputs)
        if queue:
            pipe.zadd(keys.map_run_queue(arn), queue)
        pipe.hincrby(keys.map_run_counters(arn), "i.total", items_total)
        pipe.hincrby(keys.map_run_counters(arn), "e.total", count)
        state = {"cursor": stream.cursor(), "next": index, "carried": batcher.carried}
        fields = {"feedState": json.dumps(state)}
        if reader_done:
            fields["readerDone"] = "1"
        pipe.hset(keys.map_run(arn), mapping=fields)
        pipe.execute()
        return index

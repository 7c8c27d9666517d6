"""The feeder: streams items from the ItemReader into the Map Run's dispatch window.

One feeder runs per Map Run at a time (a lease). It reads items, applies ItemSelector and
ItemBatcher, and adds child inputs to the store until the window (a bound on undispatched
children, not on items) is full, then stops; the dispatcher calls it again when the window
drains. Each chunk of children is stored together with the reader's cursor in one atomic step,
so a restarted orchestrator continues exactly where the last chunk ended
(docs/architecture.md invariants 6 and 7: nothing lost, memory bounded by the window).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from orchestrator import messages
from orchestrator.asl import StatesError, compile_item_selector
from orchestrator.jsontext import batch_suffix
from orchestrator.maprun.batching import Batch, Batcher
from orchestrator.maprun.deps import Deps, child_name
from orchestrator.maprun.leases import LeaseHeld
from orchestrator.maprun.plan import BatchRule, MapRunPlan
from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.maprun_base import (
    ChildRecord,
    FailedChild,
    FeedChunk,
    Lease,
    ReadyChild,
)
from orchestrator.store.maprun_record import FeedState, MapRun

if TYPE_CHECKING:
    from orchestrator.readers import ItemStream

log = logging.getLogger(__name__)

#: Stands for an item whose ItemSelector failed (its child slot is in the failed list).
_FAILED: Any = object()

#: A chunk of children is written (with the cursor) when it holds this many children or items.
CHUNK = 500
CHUNK_ITEMS = 20_000
#: One feeder call reads at most this many items, then hands over to a fresh call, so that
#: dispatching and feeding interleave on the control workers.
ITEMS_PER_CALL = 200_000
#: Rows a CSV reader hands over at a time when it writes their JSON itself (the cursor is exact
#: after each block; a chunk of children may hold up to one block more than CHUNK_ITEMS).
BLOCK_ROWS = 1000
#: Range children (``readers/ranges.py``) are stored first in a chunk of this many, then
#: in chunks four times larger up to CHUNK: the first children start after one small read.
RANGE_FIRST_CHUNK = 8
#: One call plans at most this many items of ranges, then hands over to a fresh call (like
#: ITEMS_PER_CALL; each call is one more ranged GET of the object).
RANGE_ITEMS_PER_CALL = 1_000_000
#: The feed lease: short, renewed while the feeder reads (a killed control process frees it
#: within seconds; docs/architecture.md invariant 11).
LEASE_MS = 15_000


def feed(deps: Deps, arn: str, dispatch: Callable[[], object] | None = None) -> bool:
    """Feed until the window is full or the items end. Returns False if another feeder runs.

    ``dispatch``: dispatches the Map Run's ready children in this process; the range planner
    calls it after each chunk it stores (:meth:`_Feeder._dispatch`). Without it, and on the
    parsing path, each chunk sends a ``MAP_RUN_DISPATCH`` message instead.

    Raises:
        StatesError: the reader failed (States.ItemReaderFailed); the Map Run fails with it.
    """
    held = LeaseHeld.acquire(deps.store, Lease.FEED, arn, LEASE_MS)
    if held is None:
        return False
    with held:
        _Feeder(deps, arn, dispatch).run()
    return True


class _Feeder:
    """One feeder call on one Map Run."""

    def __init__(self, deps: Deps, arn: str, dispatch: Callable[[], object] | None) -> None:
        self.deps = deps
        self.arn = arn
        self.dispatch = dispatch

    def run(self) -> None:
        from orchestrator.readers import open_items, ranges

        store = self.deps.store
        run = store.get(self.arn)
        if run is None or run.status is not MapRunStatus.RUNNING or run.reader_done:
            return
        room = run.window - store.queue_length(self.arn)
        if room <= 0:
            return
        request = run.request
        state = run.feed
        template = (compile_item_selector(request.item_selector, request.query_language,
                                          request.item_selector_variables)
                    if request.item_selector is not None else None)
        base_context = request.context or {}
        next_index = state.next
        rule = MapRunPlan.of(request).batching
        if state.cursor.get("ranges") if state.cursor else ranges.eligible(
                request.reader, max_items_per_batch=rule.max_items if rule else None,
                max_bytes_per_batch=rule.max_bytes if rule else None,
                item_selector=request.item_selector):
            # The path is chosen once, when nothing was read yet, and kept in the cursor.
            self._plan_ranges(run, room, rule)
            return

        stream = open_items(request.reader, request.items, self.deps.s3, cursor=state.cursor)
        # Without an ItemSelector a CSV reader writes each row's JSON itself (no dict, no
        # Item, one join per batch), a block of rows at a time: most of the control plane's
        # time per item.
        # A block is about one batch, so a chunk overshoots CHUNK/CHUNK_ITEMS by one at most.
        rows = max(64, min(BLOCK_ROWS, rule.max_items or 0)) if rule is not None else 64
        blocks = stream.json_blocks(rows) if template is None else None
        batcher = Batcher(rule, texts=blocks is not None)
        batcher.restore(state.carried)
        pending: list[Batch] = []
        failed: list[tuple[int, dict[str, str]]] = []
        produced = chunk_items = items_read = 0
        done = True
        more = False
        try:
            for group in (blocks if blocks is not None else self._selected(
                    stream, template, request.effective_input, base_context, failed,
                    lambda: next_index + len(pending) + len(failed))):
                if blocks is not None:
                    items_read += len(group)
                    for batch in batcher.add_texts(group):
                        pending.append(batch)
                        chunk_items += batch.items
                else:
                    items_read += 1
                    if group is not _FAILED:
                        for batch in batcher.add(group):
                            pending.append(batch)
                            chunk_items += batch.items
                if len(pending) + len(failed) >= CHUNK or chunk_items >= CHUNK_ITEMS:
                    next_index = self._flush(run, pending, failed, next_index,
                                             FeedState(stream.cursor(), 0, batcher.carried))
                    produced += len(pending) + len(failed)
                    # Cleared in place: the selector loop appends to this very ``failed``.
                    pending.clear()
                    failed.clear()
                    chunk_items = 0
                    # Children are ready: dispatch them while this call reads on (by message:
                    # dispatched in the call, each chunk's children would go in messages packed
                    # for that chunk alone, smaller than the window allows).
                    self.deps.bus.send_control(messages.MAP_RUN_DISPATCH, self.arn)
                    if produced >= room or items_read >= ITEMS_PER_CALL:
                        done = False
                        more = produced < room
                        break
            if done:
                pending.extend(batcher.flush())
        finally:
            stream.close()
        next_index = self._flush(run, pending, failed, next_index,
                                 FeedState(stream.cursor(), 0, batcher.carried), reader_done=done)
        if more:
            self.deps.bus.send_control(messages.MAP_RUN_FEED, self.arn)
        log.info("map run %s: fed up to child %d (reader done: %s)", self.arn, next_index, done)

    def _plan_ranges(self, run: MapRun, room: int, rule: BatchRule | None) -> None:
        """Plan children as byte ranges of the CSV object; each reads its own range
        (``readers/ranges.py``). Chunks of descriptors are stored with the planner's cursor
        exactly as items are on the parsing path (invariants 6 and 7)."""
        from orchestrator.readers import MAX_ITEMS_CEILING, open_items
        from orchestrator.readers.ranges import RangePlanner

        assert rule is not None and rule.max_items is not None
        request = run.request
        assert request.reader is not None
        planner = RangePlanner(self.deps.s3, request.reader, run.feed.cursor)
        # MaxItems: the parsing path's own checks and causes (nothing is read here).
        open_items(request.reader, None, self.deps.s3).close()
        max_items = request.reader.config.max_items
        limit = min(max_items, MAX_ITEMS_CEILING) if max_items else None
        left = None if limit is None else max(0, limit - planner.index)
        suffix = batch_suffix(rule.batch_input)
        pending: list[Batch] = []
        next_index = run.feed.next
        produced = planned = 0
        chunk = RANGE_FIRST_CHUNK
        done = True
        more = False
        try:
            for piece in planner.pieces(rule.max_items, left):
                pending.append(Batch(planner.descriptor(piece, suffix).to_text(), piece.items))
                planned += piece.items
                if len(pending) >= chunk:
                    next_index = self._flush(run, pending, [], next_index,
                                             FeedState(planner.cursor(), 0, []))
                    produced += len(pending)
                    pending.clear()
                    chunk = min(CHUNK, chunk * 4)
                    self._dispatch()
                    if produced >= room or planned >= RANGE_ITEMS_PER_CALL:
                        done = False
                        more = produced < room
                        break
        finally:
            planner.close()
        next_index = self._flush(run, pending, [], next_index,
                                 FeedState(planner.cursor(), 0, []), reader_done=done)
        if more:
            self.deps.bus.send_control(messages.MAP_RUN_FEED, self.arn)
        log.info("map run %s: planned ranges up to child %d (reader done: %s)", self.arn,
                 next_index, done)

    def _dispatch(self) -> None:
        """Dispatch the chunk of ranges just stored: at once in this process when the feeder was
        given a ``dispatch``, since with one control process a dispatch message waits for the whole
        call (a 1M-row CSV's first child started 0.3 s after its Map Run, a 10M-row one's 1.9 s,
        while the range planner read the object to the end of the window). A crash between the
        store and the dispatch loses nothing: the feed message is redelivered and the reconcile
        pass dispatches what is ready."""
        if self.dispatch is not None:
            self.dispatch()
        else:
            self.deps.bus.send_control(messages.MAP_RUN_DISPATCH, self.arn)

    @staticmethod
    def _selected(stream: ItemStream, template: Any, effective_input: Any,
                  base_context: dict[str, Any], failed: list[tuple[int, dict[str, str]]],
                  slot: Callable[[], int]) -> Iterator[Any]:
        """Each item's value through the ItemSelector (if any); :data:`_FAILED` for an item
        whose selector failed, recorded in ``failed`` at its child slot."""
        for item in stream:
            if template is None:
                yield item.value
                continue
            item_ctx = dict(base_context)
            map_item: dict[str, Any] = {"Index": item.index, "Value": item.value,
                                        "Source": item.source}
            if item.key is not None:
                map_item["Key"] = item.key
            item_ctx["Map"] = {"Item": map_item}
            try:
                yield template.evaluate(effective_input, item_ctx)
            except StatesError as exc:
                # A malformed item fails only its own child (invariant 9).
                failed.append((slot(), exc.to_dict()))
                yield _FAILED

    def _flush(self, run: MapRun, pending: list[Batch], failed: list[tuple[int, dict[str, str]]],
               next_index: int, after: FeedState, *, reader_done: bool = False) -> int:
        """Store one chunk (children in index order, failed ones in their slots)."""
        failed_at = dict(failed)
        batches = iter(pending)
        ready: list[ReadyChild] = []
        failures: list[FailedChild] = []
        index = next_index
        for _ in range(len(pending) + len(failed)):
            name = child_name(run.map_run_id, index)
            if index in failed_at:
                now = self.deps.clock()
                error = failed_at[index]
                failures.append(FailedChild(index, ChildRecord(
                    name=name, status=ChildStatus.FAILED, start=now, stop=now,
                    error=error["Error"], cause=error["Cause"])))
            else:
                batch = next(batches)
                ready.append(ReadyChild(index, name, batch.input_json, batch.items))
            index += 1
        state = FeedState(cursor=after.cursor, next=index, carried=after.carried)
        self.deps.store.append_children(self.arn, FeedChunk(ready, failures, state, reader_done))
        return index

"""The dispatcher: turns free concurrency permits into chord segments of children.

One store call (:meth:`MapRunStore.grant`) reclaims expired permits, computes the free ones
under the Map Run's current limit (so UpdateMapRun applies to the very next dispatch), pops
that many ready children and grants each a permit held by a unique holder id. The children are
packed into broker messages (:mod:`orchestrator.maprun.packing`: several child executions per
message when the limit is large or the children cannot wait on anything, one per message when
it is small, so a slow child never holds others back: docs/architecture.md invariant 2), and
the messages into bounded chord segments. Each finished
message reports its outcomes at once (a ``children_done`` message from the worker), which
refills its slots; the chord body only closes the segment's books.

Children whose permit expired after they ended (their report is late) come back from the
grant; the dispatcher hands their outbox outcomes to ``settle`` (the coordinator's one place
where outcomes are applied) and grants again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence

from orchestrator import messages
from orchestrator.maprun import packing
from orchestrator.maprun.deps import Deps, child_name
from orchestrator.maprun.plan import MapRunPlan
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_base import Grant, Lease, Segment
from orchestrator.store.maprun_record import MapRun

log = logging.getLogger(__name__)

MAX_PER_CALL = 1024
#: Child inputs fetched per grant (at least one child).
MAX_BYTES_PER_CALL = 4 * 1024 * 1024

#: A message carries batches of at most this many items in all (never less than one child):
#: 128 batches of 1,000 items in one message left a 100,000-item Map Run to one worker process,
#: which for children that read their own ranges is also the parsing (readers/ranges.py). Each
#: message of range children is one GET of its adjacent ranges; moto's S3 server copies the whole
#: object to answer a range GET, so a 10M-row CSV's 313 messages at 32,768 items cost it 53
#: CPU-seconds (a 1M-row one's 31 messages: 6% of the stack's CPU, 4% less at 65,536).
ITEMS_PER_MESSAGE = 65_536

#: Applies late outcomes (from the outbox) to a Map Run.
Settle = Callable[[str, Sequence[messages.ChildOutcome]], None]


def dispatch(deps: Deps, arn: str, settle: Settle) -> int:
    """Dispatch as many ready children as permits allow; returns how many were sent."""
    store = deps.store
    run = store.get(arn)
    if run is None or run.status is not MapRunStatus.RUNNING:
        return 0
    instant = packing.instant_processor(run.processor_hash, lambda: run.request.processor)
    ceiling = deps.settings.celery.children_per_message
    packed_ceiling = deps.settings.celery.instant_children_per_message if instant else ceiling
    lease_ms = int(deps.settings.limits.lease_seconds * 1000)
    rule = MapRunPlan.of(run.request).batching
    batch_items = rule.max_items if rule is not None and rule.max_items else 1
    sent = settled = 0
    while True:
        grants = store.grant(arn, now_ms=deps.now_ms(), lease_ms=lease_ms,
                             max_children=MAX_PER_CALL, tag=uuid.uuid4().hex[:10],
                             max_bytes=MAX_BYTES_PER_CALL,
                             burst_seconds=deps.settings.limits.rate_burst_seconds)
        _follow_limits(deps, arn, grants.retry_ms, grants.wake)
        if grants.reclaimed:
            log.warning("map run %s: reclaimed %d expired permits", arn, grants.reclaimed)
        if grants.late:
            # Children that ended but whose report is late: record them from the outbox (this
            # frees their permits), then grant again so the freed permits are used at once.
            settled += _settle_late(deps, arn, grants.late, settle)
            if not grants.granted:
                continue
        if not grants.granted:
            break
        backlog = len(grants.granted)
        if not instant and packing.children_per_message(run.limit, ceiling) > 1:
            backlog += store.queue_length(arn)
        per_message = min(
            packing.per_message(run.limit, packed_ceiling, backlog, instant=instant),
            max(1, ITEMS_PER_MESSAGE // batch_items))
        _send_segments(deps, run, grants.granted, per_message, lease_ms)
        sent += len(grants.granted)
    _maybe_feed(deps, run)
    if settled:
        # Settled outcomes may have completed the run or crossed a failure threshold; the feed
        # task ends with a progress check, which looks at both (no-op feeding when the reader
        # is done).
        deps.bus.send_control(messages.MAP_RUN_FEED, arn)
    return sent


def _follow_limits(deps: Deps, arn: str, retry_ms: int, wake: Sequence[str]) -> None:
    """Act on what rate limits and pools asked for (docs/limits.md).

    A rate stopped the grant: dispatch again when its bucket has the tokens (nothing else may
    come: the run's children may all have ended). A pool left permits to runs below their fair
    share: dispatch those runs now, since no report of their own may come either.
    """
    if retry_ms > 0:
        deps.bus.send_control(messages.MAP_RUN_DISPATCH, arn, countdown=retry_ms / 1000.0)
    for other in wake:
        deps.bus.send_control(messages.MAP_RUN_DISPATCH, other)


def _settle_late(deps: Deps, arn: str, late: list[tuple[int, str]], settle: Settle) -> int:
    """Record the outbox outcomes of ``(index, holder)`` pairs whose permits expired."""
    outcomes = []
    found = deps.store.late_outcomes(arn, [index for index, _ in late])
    for (_, holder), outcome in zip(late, found, strict=True):
        if outcome is None:
            continue  # recorded meanwhile: the permit expires again and is dropped then
        # The permit the store renewed is the expired holder's; release that one (the outbox
        # may hold an earlier dispatch attempt's outcome of the same child).
        outcomes.append(outcome.model_copy(update={"holder": holder}))
    log.warning("map run %s: %d children settled from the outbox (late reports)", arn,
                len(outcomes))
    settle(arn, outcomes)
    return len(outcomes)


def _send_segments(deps: Deps, run: MapRun, granted: list[Grant], per_message: int,
                   lease_ms: int) -> None:
    children = [messages.ChildWork(index=g.index, name=child_name(run.map_run_id, g.index),
                                   holder=g.holder, input=g.input) for g in granted]
    keys = deps.store.ledger_keys(run.arn)
    segment_size = max(per_message, deps.settings.limits.segment_size)
    for start in range(0, len(children), segment_size):
        segment_children = children[start:start + segment_size]
        segment = uuid.uuid4().hex[:12]
        batches = [
            messages.ChildBatch(
                map_run_arn=run.arn, segment=segment, state_machine_arn=run.labelled_arn,
                execution_prefix=run.execution_prefix, processor_key=run.processor_key,
                processor_hash=run.processor_hash, execution_type=run.execution_type,
                semaphore_key=keys.semaphore, status_key=keys.status, control_key=keys.control,
                outbox_key=keys.outbox, journal_key=keys.journal,
                claims_key=keys.claims, inputs_key=keys.inputs, lease_ms=lease_ms,
                redrive_count=run.redrive_count, children=segment_children[m:m + per_message],
            )
            for m in range(0, len(segment_children), per_message)
        ]
        # What the reconciler needs to close the segment from the child records if its chord
        # body never runs (docs/architecture.md invariant 4).
        deps.store.add_segment(run.arn, segment,
                               Segment(deps.clock(), [c.index for c in segment_children]))
        deps.bus.send_segment(batches, run.arn, segment)
        # Sent: the permits that no worker claimed yet are parked, so they do not lapse while
        # their messages wait in the queue (docs/architecture.md invariant 6). Had this process
        # died before, they lapse after one lease and are dispatched again; the message, if it
        # was sent, then finds its permits gone and does not run the children.
        parked_ms = int(deps.settings.limits.parked_permit_seconds * 1000)
        deps.store.park_permits(run.arn, [c.holder for c in segment_children],
                                deps.now_ms() + max(parked_ms, lease_ms))


def _maybe_feed(deps: Deps, run: MapRun) -> None:
    """Ask for more items when the window has drained below half."""
    if run.reader_done:
        return
    if deps.store.queue_length(run.arn) < run.window // 2 \
            and not deps.store.lease_held(Lease.FEED, run.arn):
        deps.bus.send_control(messages.MAP_RUN_FEED, run.arn)

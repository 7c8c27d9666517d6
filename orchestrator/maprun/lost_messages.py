"""Children whose broker message was lost before any worker took it.

The dispatcher parks the permits of a sent message (``limits.parked_permit_seconds``, an hour
by default) so that they do not lapse while the message waits in the queue
(docs/architecture.md invariant 10). A worker that takes the message starts their leases at
once (``task_received``). But the Redis transport can lose a message outright: a worker
killed between popping it from the queue and writing it to its unacked set leaves it nowhere,
so its children kept their parked permits for the hour and the Map Run stood still with them
"running" (seen as a flaky hang of the killed-worker e2e test under load).

A parked permit is only legitimate while its message waits in the queue. So the reconciler,
when the broker's children queue is empty, gives the parked permits of segments sent more
than a grace period ago one lease instead (only unclaimed ones, the park rule): a message
that a worker holds gets them claimed or renewed meanwhile, and the permits of a lost one
lapse and are dispatched again. A false alarm costs one extra message: a delivery runs only
the children whose permits it claims, so no child runs twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from typing import Any

from orchestrator import messages
from orchestrator.maprun.deps import Deps
from orchestrator.store.permits import index_of

log = logging.getLogger(__name__)


def unpark_lost(deps: Deps, arn: str, *, older_than: float) -> int:
    """Give one lease to the parked permits of segments sent more than ``older_than`` s ago.

    Call only when the children queue is empty. Returns how many permits were unparked.
    """
    store = deps.store
    now = deps.clock()
    overdue = {i for info in store.segments(arn).values() if now - info.sent_at >= older_than
               for i in info.indexes}
    if not overdue:
        return 0
    return _one_lease(deps, arn, lambda holder: index_of(holder) in overdue,
                      "whose messages are not in the queue")


def unpark_reserved(deps: Deps, arn: str, holders: Collection[str]) -> int:
    """Give one lease to those of ``holders`` still parked: their message sat reserved.

    ``holders`` are the children of messages a worker took from the queue more than a grace
    period ago and never acknowledged (the broker's unacked set). A living worker starts their
    leases the moment it receives such a message (``task_received``) and claims them when it
    starts it, so a permit of theirs that is still parked belongs to a worker that died in
    between (or whose consumer restarted): without this it would wait out the broker's
    visibility timeout (an hour). A message waiting in the queue, however long, is not in the
    unacked set, so its permits stay parked. Returns how many permits were unparked.
    """
    wanted = set(holders)
    if not wanted:
        return 0
    return _one_lease(deps, arn, wanted.__contains__,
                      "whose messages a worker took but never started")


def reserved_by_run(payloads: Iterable[str | dict[str, Any]]) -> dict[str, list[str]]:
    """The holders of the children of ``payloads`` (``run_children`` messages), per Map Run.

    A payload that does not decode is skipped (it is not a child batch of this version).
    """
    out: dict[str, list[str]] = {}
    for payload in payloads:
        try:
            batch = messages.decode(messages.ChildBatch, payload)
        except ValueError:
            log.warning("an unacked children message does not decode; left alone")
            continue
        out.setdefault(batch.map_run_arn, []).extend(c.holder for c in batch.children)
    return out


def _one_lease(deps: Deps, arn: str, pick: Callable[[str], bool], why: str) -> int:
    store = deps.store
    limits = deps.settings.limits
    lease_ms = int(limits.lease_seconds * 1000)
    now_ms = int(deps.clock() * 1000)
    # Parked: beyond any lease a worker gives, within the parked expiry (children hosted by
    # the control plane hold theirs far longer, and are claimed anyway).
    parked = store.parked_holders(arn, now_ms + 2 * lease_ms,
                                  now_ms + int(limits.parked_permit_seconds * 1000) + lease_ms)
    lost = [h for h in parked if pick(h)]
    if not lost:
        return 0
    unparked = store.park_permits(arn, lost, now_ms + lease_ms)
    if unparked:
        log.warning("map run %s: %d parked permits %s get one lease (their children are "
                    "dispatched again)", arn, unparked, why)
    return unparked

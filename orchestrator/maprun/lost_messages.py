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
    limits = deps.settings.limits
    lease_ms = int(limits.lease_seconds * 1000)
    now_ms = int(now * 1000)
    # Parked: beyond any lease a worker gives, within the parked expiry (children hosted by
    # the control plane hold theirs far longer, and are claimed anyway).
    parked = store.parked_holders(arn, now_ms + 2 * lease_ms,
                                  now_ms + int(limits.parked_permit_seconds * 1000) + lease_ms)
    lost = [h for h in parked if index_of(h) in overdue]
    if not lost:
        return 0
    unparked = store.park_permits(arn, lost, now_ms + lease_ms)
    if unparked:
        log.warning("map run %s: %d parked permits whose messages are not in the queue get "
                    "one lease (lost messages are dispatched again)", arn, unparked)
    return unparked

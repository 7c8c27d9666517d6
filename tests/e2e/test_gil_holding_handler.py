"""A handler that holds the GIL longer than the permit's lease (issue 9).

The pool process renews its message's permits from a thread; a handler stuck in a C call that
does not release the GIL (``probe-gil``: libc's ``usleep`` through ``ctypes.PyDLL``) starves
that thread. The lease lapsed while the child still ran, the reconciler's grant reclaimed the
permit and dispatched the child again: MaxConcurrency was exceeded and the child ran twice
(the issue saw one item started 12 times, 12 in flight against a limit of 5). The worker's
main process, which the handler cannot starve, now renews the permits of what its pool runs.

Leases of 1 s, children holding the GIL for 7 s (longer than the reconcile interval, 5 s, so
a lapsed permit is reclaimed while its child runs). No assertion depends on wall time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from e2e_support import E2E, distributed_map, make_stack, probe_task

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"limits": {"lease_seconds": 1}}, workers=1, concurrency=4)


def test_a_handler_holding_the_gil_past_the_lease_keeps_its_permit(e2e: E2E) -> None:
    ns = e2e.unique("gil")
    definition = distributed_map(probe_task("probe-gil"), "Work", ItemsPath="$.items",
                                 MaxConcurrency=2)
    items = [{"probe": ns, "id": i, "sleep": 7} for i in range(4)]
    described = e2e.run(definition, {"items": items}, timeout=180)

    assert described["status"] == "SUCCEEDED", described
    starts = Counter(s["id"] for s in e2e.probe(ns, "starts"))
    print(f"\nGIL held 7 s under a 1-s lease: starts {dict(starts)}, peak {e2e.probe_peak(ns)}")
    assert starts == {i: 1 for i in range(4)}  # each child ran once
    assert e2e.probe_peak(ns) <= 2  # MaxConcurrency held

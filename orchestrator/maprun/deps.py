"""What the Map Run coordinator needs from the process it runs in, named one by one.

The coordinator never builds a client: it receives a :class:`~orchestrator.store.maprun_base.MapRunStore`,
a :class:`Bus` for the messages it sends (Celery in the control worker, a list in unit tests),
a factory of S3 clients (item readers and result files), a :class:`Clock`, the settings and
where finished children are counted.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.messages import ChildBatch
from orchestrator.settings import Settings
from orchestrator.store.child_metrics import ChildMetrics, MemoryChildMetrics
from orchestrator.store.maprun_base import MapRunStore
from orchestrator.store.pools import PoolStore

#: Namespace of deterministic child names: uuid5(CHILD_NAMESPACE, "{mapRunId}:{index}").
CHILD_NAMESPACE = uuid.UUID("6f0c51d2-3c0e-5a8e-9a51-7d7f0c1e5e10")


_NAMESPACE_BYTES = CHILD_NAMESPACE.bytes


def child_name(map_run_id: str, index: int) -> str:
    """The child execution name of child ``index`` (docs/spec.md 1.4: a UUID; deterministic here).

    ``str(uuid.uuid5(CHILD_NAMESPACE, f"{map_run_id}:{index}"))``, spelled out: it is computed
    twice per child (feed, dispatch) and the ``UUID`` objects cost more than the hash.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{map_run_id}:{index}".encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Bus(Protocol):
    """The messages the coordinator sends (task names from :mod:`orchestrator.messages`)."""

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None:
        """Send a control-plane task."""
        ...

    def send_segment(self, batches: Sequence[ChildBatch], map_run_arn: str, segment: str) -> None:
        """Send one chord segment: the child messages, closed by ``close_segment``."""
        ...

    def children_waiting(self) -> int | None:
        """Messages waiting in the children queue (None: the broker did not say)."""
        ...


class Clock(Protocol):
    """Wall-clock time in epoch seconds."""

    def __call__(self) -> float: ...


@dataclass
class Deps:
    """The coordinator's dependencies (built once per control process, or per unit test)."""

    store: MapRunStore
    bus: Bus
    s3_factory: Callable[[], Any]
    settings: Settings
    clock: Clock = time.time
    #: Where finished children are counted for ``/metrics`` (Redis in the control worker).
    child_metrics: ChildMetrics = field(default_factory=MemoryChildMetrics)
    #: Named pools (docs/limits.md); ``None``: no pool exists, a binding to one fails.
    pools: PoolStore | None = None
    _s3: Any = field(default=None, init=False, repr=False)

    @property
    def s3(self) -> Any:
        """The S3 client, built on first use."""
        if self._s3 is None:
            self._s3 = self.s3_factory()
        return self._s3

    def now_ms(self) -> int:
        """The clock in milliseconds (permit lease expiries)."""
        return int(self.clock() * 1000)

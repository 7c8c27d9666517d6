"""The Map Run: everything that happens between a Distributed Map state and its result.

:class:`MapRunCoordinator` is the one public entry (start, feed, dispatch, record outcomes,
finish, redrive, abort, reconcile), built on :class:`Deps` (a
:class:`~orchestrator.store.maprun_base.MapRunStore`, a :class:`Bus`, an S3 client factory, a
clock, the settings). :class:`~orchestrator.maprun.api.MapRunApi` serves the Map Run API calls.
Internal modules: ``starter``, ``feeder`` (with ``batching``), ``dispatcher``, ``outcomes``,
``progress`` (with ``tolerance``), ``finalizer``, ``redrive``, ``segments``, ``leases``.
"""

from __future__ import annotations

from orchestrator.maprun.coordinator import MapRunCoordinator, MapRunNotRedrivable, MapRunOutcome
from orchestrator.maprun.deps import Bus, Clock, Deps, child_name

__all__ = ["Bus", "Clock", "Deps", "MapRunCoordinator", "MapRunNotRedrivable", "MapRunOutcome",
           "child_name"]

"""What the Map Run coordinator needs from the process it runs in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from orchestrator.maprun.records import MapRunStore
from orchestrator.maprun.scripts import Scripts
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys

#: Namespace of deterministic child names: uuid5(CHILD_NAMESPACE, "{mapRunId}:{index}").
CHILD_NAMESPACE = uuid.UUID("6f0c51d2-3c0e-5a8e-9a51-7d7f0c1e5e10")


def child_name(map_run_id: str, index: int) -> str:
    """The child execution name of child ``index`` (spec 1.4: a UUID; deterministic here)."""
    return str(uuid.uuid5(CHILD_NAMESPACE, f"{map_run_id}:{index}"))


@dataclass
class MapRunContext:
    """Redis, S3 and Celery access for the coordinator, built once per control process."""

    settings: Settings
    redis: redis.Redis
    send_task: Callable[..., Any]
    s3_factory: Callable[[], Any]
    keys: Keys = field(init=False)
    store: MapRunStore = field(init=False)
    scripts: Scripts = field(init=False)
    _s3: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.keys = Keys(self.settings.redis.key_prefix)
        self.store = MapRunStore(self.redis, self.keys)
        self.scripts = Scripts(self.redis)

    @property
    def s3(self) -> Any:
        """A lazily built S3 client."""
        if self._s3 is None:
            self._s3 = self.s3_factory()
        return self._s3

    def send_control(self, name: str, *args: Any, countdown: float | None = None) -> None:
        """Send a control-plane task by name."""
        self.send_task(name, args=list(args), queue=self.settings.celery.control_queue,
                       countdown=countdown)

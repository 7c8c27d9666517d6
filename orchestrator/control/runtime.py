"""The control worker's per-process singletons (stores, coordinator, parent runner), wired once.

Only the pool processes that run control tasks build a :class:`Runtime` (on their first task):
:mod:`orchestrator.control.tasks` imports this module then, so the worker's main process, which
only hands messages to its pool, never imports the coordinator, the engine or the stores.
"""

from __future__ import annotations

from celery import Celery

from orchestrator.control.bus import CeleryBus
from orchestrator.control.callbacks import CallbackWaits
from orchestrator.control.nested import NestedExecutions
from orchestrator.control.parent import ParentRunner
from orchestrator.executions.publisher import CeleryPublisher
from orchestrator.executions.service import StepFunctionsService
from orchestrator.maprun import Deps, MapRunCoordinator
from orchestrator.s3client import s3_client
from orchestrator.settings import Settings
from orchestrator.store.callbacks import CallbackStore
from orchestrator.store.child_metrics import RedisChildMetrics
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.pools import RedisPoolStore
from orchestrator.store.redis_store import RedisStore


class Runtime:
    """Per-process singletons of the control worker, wired once."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        records = RedisStore.from_url(settings.redis.url, settings.redis.key_prefix)
        map_runs = RedisMapRunStore.from_url(settings.redis.url, settings.redis.key_prefix)
        bus = CeleryBus(app, settings)
        self.coordinator = MapRunCoordinator(Deps(
            store=map_runs, bus=bus, s3_factory=lambda: s3_client(settings), settings=settings,
            child_metrics=RedisChildMetrics.from_url(settings.redis.url,
                                                     settings.redis.key_prefix),
            pools=RedisPoolStore.from_url(settings.redis.url, settings.redis.key_prefix)))
        callback_store = CallbackStore.from_url(settings.redis.url, settings.redis.key_prefix)
        callbacks = CallbackWaits(callback_store, bus)
        # Nested executions start through the service, as the API starts executions.
        service = StepFunctionsService(records, settings, CeleryPublisher(settings, app),
                                       callbacks=callback_store)
        nested = NestedExecutions(service, records, callbacks)
        self.parents = ParentRunner(self.coordinator, records, bus, callbacks, nested)

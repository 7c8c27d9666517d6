"""Settings of a worker process (env prefix ``STEPMAP_``, same names as the orchestrator's)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerRedis(BaseModel):
    """Broker and store location."""

    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL (store).")
    broker_url: str | None = Field(None, description="Celery broker URL; defaults to `url`.")


class WorkerCelery(BaseModel):
    """Queues (must match the orchestrator's)."""

    control_queue: str = Field("stepmap.control", description="Control plane queue.")
    children_queue: str = Field("stepmap.children", description="Child workflow queue.")
    visibility_timeout: int = Field(
        3600, description="Seconds before an unacknowledged message is redelivered."
    )


class WorkerLimits(BaseModel):
    """Engine limits applied to child workflows."""

    payload_bytes: int = Field(262_144, description="Max payload size (States.DataLimitExceeded).")


class WorkerArns(BaseModel):
    """Region and account shown in ARNs (the orchestrator's ``api`` group, same variables)."""

    region: str = Field("us-east-1", description="Region shown in Lambda-style ARNs.")
    account_id: str = Field("000000000000", description="Account id shown in ARNs.")


class WorkerSettings(BaseSettings):
    """All settings a worker reads."""

    model_config = SettingsConfigDict(
        env_prefix="STEPMAP_", env_nested_delimiter="__", extra="ignore"
    )

    redis: WorkerRedis = Field(default_factory=WorkerRedis)
    celery: WorkerCelery = Field(default_factory=WorkerCelery)
    limits: WorkerLimits = Field(default_factory=WorkerLimits)
    handler_modules: list[str] = Field(
        default_factory=lambda: ["workers.handlers.examples"],
        description="Modules imported at start to register Task handlers.",
    )
    api: WorkerArns = Field(default_factory=WorkerArns)

    @property
    def broker_url(self) -> str:
        """The Celery broker URL."""
        return self.redis.broker_url or self.redis.url


@lru_cache(maxsize=1)
def get_worker_settings() -> WorkerSettings:
    """This process's worker settings, read once."""
    return WorkerSettings()

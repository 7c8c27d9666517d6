"""Settings for every stepmap process, read once from the environment (prefix ``STEPMAP_``).

Nested groups use ``__`` as the delimiter: ``STEPMAP_REDIS__URL``, ``STEPMAP_S3__ENDPOINT_URL``,
``STEPMAP_API__TOKENS``. Entry points build one :class:`Settings` and pass it down; no module
reads the environment at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class RedisSettings(BaseModel):
    """Where the store, the broker and the semaphores live."""

    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL for the state store.")
    broker_url: str | None = Field(
        None, description="Celery broker URL; defaults to the store's Redis URL."
    )
    key_prefix: str = Field("stepmap", description="Prefix of every Redis key stepmap writes.")


class S3Settings(BaseModel):
    """The S3-compatible object store used by ItemReader and ResultWriter."""

    endpoint_url: str | None = Field(
        None, description="S3 endpoint URL (MinIO, moto, ...); unset means AWS S3."
    )
    region: str = Field("us-east-1", description="Region given to the S3 client.")
    access_key_id: SecretStr = Field(SecretStr("stepmap"), description="S3 access key id.")
    secret_access_key: SecretStr = Field(SecretStr("stepmap"), description="S3 secret key.")


class CelerySettings(BaseModel):
    """Queues and worker behaviour."""

    control_queue: str = Field("stepmap.control", description="Queue of the control plane tasks.")
    children_queue: str = Field("stepmap.children", description="Queue of child workflow tasks.")
    visibility_timeout: int = Field(
        3600, ge=1, description="Seconds before an unacknowledged message is redelivered."
    )
    children_per_message: int = Field(
        128,
        ge=1,
        le=1000,
        description="Child executions carried by one broker message (each stays its own execution).",
    )
    instant_children_per_message: int = Field(
        512,
        ge=1,
        le=2000,
        description="Child executions carried by one broker message when the ItemProcessor only "
        "has states that never wait (Pass, Choice, Succeed, Fail).",
    )
    control_concurrency: int = Field(
        1,
        ge=1,
        description="Pool processes of the control worker when no --concurrency is given. Control "
        "tasks are short windowed steps: one process keeps up, and each more costs its own "
        "copy of the control plane's code (~50-80 MiB RSS); more let a long step of one Map Run "
        "(reading a large object, writing its results) run beside the others' steps.",
    )
    idle_trim_seconds: float = Field(
        2.0,
        ge=0,
        description="A control pool process that ran tasks hands its freed heap back to the OS "
        "(glibc malloc_trim) once idle this many seconds; 0: never.",
    )


class AccessKey(BaseModel):
    """One SigV4 access-key pair of the AWS face (an entry of ``api.access_keys``).

    The secret comes from the environment (``secret_access_key``) or from a file
    (``secret_file``, e.g. a mounted secret; its content with surrounding whitespace removed),
    never from the command line. SigV4 needs the secret itself to recompute signatures, so it
    cannot be stored hashed.
    """

    access_key_id: str = Field(min_length=16, max_length=128, description="The access key id.")
    secret_access_key: SecretStr | None = Field(None, description="The secret access key.")
    secret_file: str | None = Field(None, description="A file holding the secret access key.")
    scope: Literal["read-only", "execute", "admin"] = Field(
        "admin",
        description="read-only: Describe/List/Get; execute: also start, stop, redrive; "
        "admin: everything.",
    )

    @model_validator(mode="after")
    def _one_secret(self) -> AccessKey:
        if (self.secret_access_key is None) == (self.secret_file is None):
            raise ValueError(
                f"access key {self.access_key_id}: set exactly one of secret_access_key and "
                "secret_file"
            )
        return self

    def secret(self) -> str:
        """The secret access key (read from ``secret_file`` when that is set)."""
        if self.secret_access_key is not None:
            return self.secret_access_key.get_secret_value()
        assert self.secret_file is not None
        return Path(self.secret_file).read_text(encoding="utf-8").strip()


class ApiSettings(BaseModel):
    """The REST API."""

    auth_enabled: bool = Field(
        True, description="Require a token on every request (`stepmap dev` turns it off)."
    )
    tokens: list[SecretStr] = Field(
        default_factory=list, description='Accepted bearer tokens (a JSON list in env: \'["t1","t2"]\').'
    )
    access_keys: list[AccessKey] = Field(
        default_factory=list,
        description="SigV4 access keys of the AWS face (JSON list of objects: access_key_id, "
        "secret_access_key or secret_file, scope read-only/execute/admin).",
    )
    region: str = Field("us-east-1", description="Region shown in ARNs.")
    account_id: str = Field("000000000000", description="Account id shown in ARNs.")
    max_request_bytes: int = Field(
        4_194_304, ge=1024, description="Largest request body accepted (larger: HTTP 413 / 400)."
    )


class LimitsSettings(BaseModel):
    """Service limits (AWS's defaults)."""

    payload_bytes: int = Field(262_144, description="Max payload size (States.DataLimitExceeded).")
    max_concurrency_ceiling: int = Field(
        10_000, description="Concurrent children of one Map Run when MaxConcurrency is 0."
    )
    open_map_runs: int = Field(
        1000, ge=0, description="Admission: Map Runs open at once (AWS's default quota); more "
        "wait in a backlog, round robin between state machines and FIFO within one. 0: no "
        "limit. Changed live with PUT /v1/admission or `stepmap admission set` (kept in Redis "
        "until reset).",
    )
    segment_size: int = Field(
        256, ge=1, description="Child executions per chord segment of a Map Run."
    )
    lease_seconds: float = Field(
        60.0, gt=0, description="Lease on a concurrency permit; renewed while the child runs."
    )
    parked_permit_seconds: float = Field(
        3600.0, gt=0, description="Expiry of a permit whose message waits in the queue (its "
        "lease starts when a worker claims it); bounds how long a message lost before any "
        "worker took it holds its children back.",
    )
    stranded_execution_seconds: float = Field(
        30.0, gt=0, description="A RUNNING execution that nobody advanced for this long is "
        "advanced again by the reconciler's liveness sweep (its start or resume message may "
        "have been lost with a killed process).",
    )
    result_file_bytes: int = Field(
        5 * 1024**3, description="ResultWriter files roll over at this size."
    )
    result_stream_bytes: int = Field(
        8 * 1024**2, description="ResultWriter files are streamed to S3 while children run, in "
        "multipart parts of this size (at least 5 MiB, S3's smallest part; 0: written only "
        "when the Map Run closes). A part on its way is spooled to an anonymous temporary file "
        "in $TMPDIR (up to one part per category, three while the closing pass uploads, two "
        "with streaming off), not held in memory.",
    )
    rate_burst_seconds: float = Field(
        0.1, gt=0, le=60, description="Burst of a Map Run's or pool's rate limit (stepmap "
        "extension, docs/limits.md): its token bucket holds this many seconds of its rate "
        "(at least one item)."
    )
    finalize_lease_seconds: float = Field(
        10.0, gt=0, description="Lease of the control process closing a Map Run; renewed while "
        "it writes the results, so a crashed one is taken over within seconds.",
    )

    @field_validator("result_stream_bytes")
    @classmethod
    def _part_size(cls, value: int) -> int:
        if value != 0 and value < 5 * 1024**2:
            raise ValueError("result_stream_bytes must be 0 (off) or at least 5 MiB "
                             f"(5242880, S3's smallest multipart part), not {value}")
        return value


class TelemetrySettings(BaseModel):
    """Optional OpenTelemetry tracing (needs the ``otel`` extra: ``pip install 'stepmap[otel]'``)."""

    enabled: bool = Field(
        False, description="Trace the API, the workers, Redis and S3 calls with OpenTelemetry "
        "(the otel extra); off, nothing of OpenTelemetry is imported.",
    )
    exporter: Literal["otlp", "console"] = Field(
        "otlp", description="Where spans go: OTLP over HTTP, or one JSON object per span on stdout."
    )
    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP traces URL (http://collector:4318/v1/traces); unset: "
        "OpenTelemetry's OTEL_EXPORTER_OTLP_* variables, else its default.",
    )
    service_name: str = Field(
        "stepmap", description="service.name of the spans; the process kind is appended "
        "(stepmap-api, stepmap-control, stepmap-children).",
    )


class HttpConnection(BaseModel):
    """Credentials an HTTP Task uses when it names ``Authentication.ConnectionArn``.

    stepmap has no EventBridge: a connection is declared here (an entry of
    ``integrations.http_connections``) with Basic or API-key authorization.
    """

    connection_arn: str = Field(min_length=1, description="The ARN the Task names.")
    authorization_type: Literal["BASIC", "API_KEY"] = Field(
        description="BASIC (username, password) or API_KEY (api_key_name, api_key_value)."
    )
    username: str | None = Field(None, description="BASIC: the user name.")
    password: SecretStr | None = Field(None, description="BASIC: the password.")
    api_key_name: str | None = Field(None, description="API_KEY: the header name.")
    api_key_value: SecretStr | None = Field(None, description="API_KEY: the header value.")

    @model_validator(mode="after")
    def _complete(self) -> HttpConnection:
        needed = (("username", "password") if self.authorization_type == "BASIC"
                  else ("api_key_name", "api_key_value"))
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"connection {self.connection_arn}: {self.authorization_type} "
                             f"needs {' and '.join(missing)}")
        return self


class IntegrationsSettings(BaseModel):
    """Task integrations beyond handlers and activities; each is off until enabled here.

    A definition that uses one that is off is refused at create (UNSUPPORTED_FEATURE).
    """

    start_execution: bool = Field(
        False, description="Run arn:aws:states:::states:startExecution (plain, .sync, .sync:2): "
        "nested executions of this stepmap's state machines.",
    )
    http_invoke: bool = Field(
        False, description="Run the HTTP Task (arn:aws:states:::http:invoke) against "
        "http_allowed_hosts.",
    )
    http_allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts HTTP Tasks may call: names, host:port or "
        "*.suffix (a JSON list in env).",
    )
    http_connections: list[HttpConnection] = Field(
        default_factory=list, description="Connections HTTP Tasks may name in "
        "Authentication.ConnectionArn (JSON list of objects: connection_arn, "
        "authorization_type BASIC/API_KEY, username/password or api_key_name/api_key_value).",
    )
    http_timeout_seconds: float = Field(
        60.0, gt=0, le=3600, description="Longest an HTTP Task's request may take "
        "(States.Http.Socket after that).",
    )
    @field_validator("http_allowed_hosts")
    @classmethod
    def _host_entries(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            name, _, port = entry.removeprefix("*.").partition(":")
            if not name or any(c in name for c in "/@ ") or (port and not port.isdigit()):
                raise ValueError(f"{entry!r} is not a host name, host:port or *.suffix "
                                 "(no scheme, no path)")
        return entries

    s3_sdk: bool = Field(
        False, description="Run arn:aws:states:::aws-sdk:s3:<action> (getObject, putObject, "
        "listObjectsV2, headObject, deleteObject, copyObject) on the configured S3.",
    )


class Settings(BaseSettings):
    """All settings of a stepmap process."""

    model_config = SettingsConfigDict(
        env_prefix="STEPMAP_", env_nested_delimiter="__", extra="ignore"
    )

    redis: RedisSettings = Field(default_factory=RedisSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    integrations: IntegrationsSettings = Field(default_factory=IntegrationsSettings)
    handler_modules: list[str] = Field(
        default_factory=lambda: ["workers.handlers.examples"],
        description="Modules imported by workers to register Task handlers.",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines of the API and the workers as text or JSON lines, with "
        "the execution ARN, Map Run ARN, child, request id and Celery task id they belong to.",
    )
    # The control plane, the API and the workers all read this one tree (workers read
    # ``redis``, ``celery``, ``limits.payload_bytes``, ``api.region``/``account_id`` and
    # ``handler_modules``).

    @property
    def broker_url(self) -> str:
        """The Celery broker URL (the store's Redis unless set)."""
        return self.redis.broker_url or self.redis.url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read strictly from the environment once.

    Raises:
        orchestrator.settings_loader.ConfigError: an unknown ``STEPMAP_*`` variable or a
            malformed value, each named.
    """
    from orchestrator.settings_loader import load_settings

    return load_settings()

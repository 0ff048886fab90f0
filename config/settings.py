"""The one configuration of snapmatch, shared by the gateway and the worker.

Every knob is an environment variable prefixed with ``SNAPMATCH_`` (or a line in ``.env``).
The README's configuration table lists them; ``tests/unit/test_settings.py`` keeps the two in
step. One flat class on purpose, longer than most modules: every knob of both processes in one
place, in the order of that table.
"""

import base64
import binascii
import json
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    AmqpDsn,
    BeforeValidator,
    Field,
    HttpUrl,
    MariaDBDsn,
    RedisDsn,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config import machine

REPO_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class AuthMode(StrEnum):
    """How Firebase ID tokens are verified."""

    FIREBASE = "firebase"  # real RS256 verification against Google's certificates
    EMULATOR = "emulator"  # Firebase Auth Emulator: unsigned tokens, development only


class ExecutionProvider(StrEnum):
    """Where the worker runs the model."""

    CPU = "cpu"
    CUDA = "cuda"  # needs the `gpu` extra (onnxruntime-gpu); falls back to CPU when unavailable


def _split_list(value: object) -> object:
    """A list setting from the environment: a JSON list, or items separated by commas."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return value


# Lists an operator writes in one environment variable: `a,b,c` or `["a", "b", "c"]`.
_ListFromEnv = BeforeValidator(_split_list)
HostPort = Annotated[str, AfterValidator(_host_port)]


class Settings(BaseSettings):
    """Configuration read once per process from the environment and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="SNAPMATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development, test or production. Production refuses emulator auth.",
    )

    # --- Auth -------------------------------------------------------------------------------
    auth_mode: AuthMode = Field(
        AuthMode.EMULATOR, description="`firebase` (RS256, production) or `emulator` (dev only)."
    )
    firebase_project_id: str = Field(
        "demo-snapmatch", description="Firebase project id: the `aud` every ID token must carry."
    )
    firebase_credentials: Path | None = Field(
        REPO_ROOT / "secrets" / "firebase-service-account.json",
        description="Service-account JSON used in `firebase` mode when the file exists; "
        "otherwise application default credentials.",
    )
    auth_emulator_host: str = Field(
        "127.0.0.1:9099", description="host:port of the Firebase Auth Emulator (`emulator` mode)."
    )
    firebase_http_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of firebase-admin's HTTP calls (certificate fetches)."
    )

    # --- RabbitMQ ---------------------------------------------------------------------------
    amqp_url: AmqpDsn = Field(
        AmqpDsn("amqp://snapmatch:snapmatch@127.0.0.1:5672/snapmatch"),
        description="RabbitMQ URL including user, password and vhost.",
    )
    amqp_urls: Annotated[list[AmqpDsn], NoDecode, _ListFromEnv] = Field(
        default_factory=list,
        description="The nodes of a RabbitMQ cluster, comma-separated (or a JSON list); when "
        "set, replaces `amqp_url`. Gateway and workers use the first that answers and move to "
        "the next when its connection is lost.",
    )
    task_queue: str = Field("tasks", description="Durable quorum queue that carries the jobs.")
    queue_delivery_limit: int = Field(
        5,
        ge=1,
        description="Quorum queue `x-delivery-limit`: a task is delivered at most this many "
        "times plus one. The last delivery records `failed` before running the model; if "
        "that one is lost too, the task is dead-lettered to `<queue>.dead`.",
    )
    publish_timeout_seconds: float = Field(
        5.0, gt=0, description="How long the gateway waits for the broker's publisher confirm."
    )

    # --- Backpressure -----------------------------------------------------------------------
    queue_max_length: int = Field(
        1000,
        ge=1,
        description="Quorum queue `x-max-length`: tasks that may wait. Beyond it RabbitMQ "
        "refuses the publish and the gateway answers 503 `queue_full` with Retry-After.",
    )
    queue_max_bytes: int = Field(
        2 * 1024**3,
        ge=1,
        description="Quorum queue `x-max-length-bytes`: total size of the waiting photos, which "
        "caps the broker's memory and disk whatever the photo sizes.",
    )

    # --- Redis ------------------------------------------------------------------------------
    redis_url: RedisDsn = Field(
        RedisDsn("redis://127.0.0.1:6379/0"), description="Redis URL of the result store."
    )
    redis_sentinels: Annotated[list[HostPort], NoDecode, _ListFromEnv] = Field(
        default_factory=list,
        description="Redis Sentinels as host:port, comma-separated; when set, every client asks "
        "them for the primary of `redis_sentinel_service` (the host and port of `redis_url` "
        "are ignored, its password and database still apply).",
    )
    redis_sentinel_service: str = Field(
        "mymaster", description="The name the Sentinels monitor the result store's primary under."
    )
    redis_sentinel_password: SecretStr | None = Field(
        None, description="Password of the Sentinels themselves (unset: they need none)."
    )
    redis_min_replica_acks: int = Field(
        0,
        ge=0,
        description="Replicas that must confirm a result (Redis `WAIT`) before the worker acks "
        "its task; 0 = off (a single Redis). Until they do, the task stays unacked.",
    )
    redis_replica_ack_timeout_ms: int = Field(
        1000,
        ge=1,
        description="How long one `WAIT` for the replicas may block before the worker retries.",
    )
    result_ttl_seconds: int = Field(
        300, ge=1, description="Lifetime of a finished (done or failed) result in Redis."
    )
    pending_ttl_seconds: int = Field(
        3600,
        ge=1,
        description="Lifetime of the `pending` marker: how long a task may wait in the queue "
        "before GET stops reporting it.",
    )

    # --- Gateway ----------------------------------------------------------------------------
    gateway_host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(8000, ge=1, le=65535, description="Port the gateway listens on.")
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1, description="Largest accepted image file, in bytes."
    )
    max_image_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Largest accepted image, width x height: checked from the header by the "
        "gateway and again by the worker before decoding.",
    )
    poll_retry_after_seconds: int = Field(
        1, ge=1, description="`Retry-After` sent with a pending result."
    )
    gateway_shutdown_timeout_seconds: int = Field(
        10,
        ge=1,
        description="On SIGTERM, how long the gateway lets in-flight requests finish before it "
        "closes its RabbitMQ and Redis connections and exits.",
    )
    refused_body_drain_bytes: int = Field(
        32 * 1024 * 1024,
        ge=0,
        description="After answering a request before reading its body (401, 413, 415, 429), "
        "read and discard at most this much of the rest before closing, so that clients which "
        "send the whole body first see the answer, not a reset (nginx's lingering close).",
    )
    refused_body_drain_seconds: float = Field(
        30.0,
        ge=0,
        description="The longest such a drain may take (and 5 s without data ends it sooner).",
    )
    result_wait_max_seconds: float = Field(
        30.0,
        ge=0,
        description="Cap on `GET /result/{id}?wait=`: the longest a long-poll is held open.",
    )

    # --- Task lifecycle: history and webhooks -------------------------------------------------
    history_retention_days: int = Field(
        30,
        ge=0,
        description="Days each user's task history (`GET /tasks`) is kept in MariaDB; older "
        "rows are purged on schedule. 0 turns history off (nothing is written).",
    )
    history_purge_interval_seconds: float = Field(
        3600.0, gt=0, description="How often each gateway deletes history rows past retention."
    )
    webhook_url: HttpUrl | None = Field(
        None,
        description="Every terminal result is POSTed here, signed per Standard Webhooks "
        "(needs `webhook_secret`). Unset: no webhooks.",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="The signing secret, `whsec_` + base64 of 24 to 64 random bytes, shared "
        "with the receiver.",
    )
    webhook_allow_private_destinations: bool = Field(
        False,
        description="Allow `webhook_url` to resolve to loopback, private or link-local "
        "addresses (refused by default: SSRF). For a receiver inside your own network.",
    )
    webhook_max_attempts: int = Field(
        8, ge=1, le=30, description="Deliveries of one webhook before it is given up (logged)."
    )
    webhook_backoff_seconds: float = Field(
        1.0,
        gt=0,
        description="Wait before the second attempt; each later wait doubles (capped by "
        "`webhook_backoff_max_seconds`), with up to 10 % jitter.",
    )
    webhook_backoff_max_seconds: float = Field(
        600.0, gt=0, description="Longest wait between two attempts of one webhook."
    )
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="Time a receiver has to answer one delivery."
    )

    # --- Models (read by the gateway and the workers) ---------------------------------------
    model_registry: Path = Field(
        REPO_ROOT / "build" / "registry",
        description="Directory of the model registry (`models.json` and the published ONNX "
        "files) that `make model` fills and `python -m tools.model.publish` updates.",
    )
    default_model: str | None = Field(
        None,
        description="Model a task runs when the upload names none. Unset: the registry's default.",
    )
    model_registry_poll_seconds: float = Field(
        2.0,
        gt=0,
        le=60,
        description="How often gateways and workers look for a changed registry manifest.",
    )
    model_path: Path | None = Field(
        None,
        description="Removed: the registry replaced it. Set, both processes refuse to start "
        "and say what to set instead.",
    )

    # --- Worker -----------------------------------------------------------------------------
    worker_max_models: int = Field(
        3,
        ge=1,
        le=64,
        description="Models a worker keeps loaded at once; the least recently used one is "
        "unloaded to make room.",
    )
    worker_preload_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated models a worker loads and warms up at start, besides the "
        "default model (always preloaded); `*` preloads every model, up to "
        "`worker_max_models`.",
    )
    top_k: Annotated[int, Field(ge=1, le=1000)] = Field(
        5, description="Labels returned per result."
    )
    worker_prefetch: int = Field(
        2, ge=1, description="Unacknowledged messages a worker may hold (basic.qos prefetch)."
    )
    worker_processes: int = Field(
        default_factory=lambda: machine.default_worker_processes(machine.available_cores()),
        ge=1,
        description="Worker processes `make run` starts (default: one per available core).",
    )
    worker_inference_threads: int = Field(
        default_factory=lambda: machine.default_inference_threads(machine.available_cores()),
        ge=0,
        description="onnxruntime intra-op threads per worker (default: 2, 1 on a single core; "
        "0 = one per core).",
    )
    worker_inference_spinning: bool = Field(
        default_factory=lambda data: machine.default_spinning(
            machine.available_cores(),
            processes=data.get("worker_processes", 1),
            threads=data.get("worker_inference_threads") or machine.available_cores(),
        ),
        description="Idle onnxruntime threads spin instead of sleeping (default: only when "
        "the workers' threads leave 2 cores free).",
    )
    worker_execution_provider: ExecutionProvider = Field(
        ExecutionProvider.CPU,
        description="`cpu` or `cuda` (onnxruntime-gpu; falls back to CPU with a warning).",
    )
    worker_batch_max_size: int = Field(
        1,
        ge=1,
        le=256,
        description="Micro-batching: most images per model call (1 = off; pays on a GPU, not on "
        "a small CPU).",
    )
    worker_batch_max_wait_ms: float = Field(
        5.0,
        ge=0,
        description="Micro-batching: how long a batch waits for more images after its first.",
    )
    worker_shutdown_timeout_seconds: float = Field(
        30.0, gt=0, description="On SIGTERM, how long a worker may finish in-flight tasks."
    )
    worker_heartbeat_file: Path = Field(
        Path("/tmp/snapmatch-worker.alive"),  # noqa: S108 - a liveness marker, not a secret
        description="File the worker touches while connected; `python -m worker.healthcheck` "
        "reads it.",
    )

    # --- Product catalog (MariaDB, read by the gateway) ----------------------------------------
    database_url: MariaDBDsn = Field(
        MariaDBDsn("mariadb://snapmatch:snapmatch@127.0.0.1:3306/snapmatch"),
        description="MariaDB URL of the product catalog: user, password, host, port, database.",
    )
    database_pool_size: int = Field(
        4,
        ge=1,
        le=64,
        description="Pooled MariaDB connections, and so the catalog queries the gateway runs at "
        "once (each in a thread).",
    )
    database_timeout_seconds: int = Field(
        2,
        ge=1,
        description="Connect, read and write timeout of MariaDB calls, and the longest wait for "
        "a free pooled connection before answering 503.",
    )
    product_matches: int = Field(
        5, ge=0, le=50, description="Products returned with each result (0 turns matching off)."
    )
    product_min_score: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Lowest match score (sum of confidence x category weight) a product needs "
        "to be returned with a result.",
    )

    # --- Web page (/app/) ----------------------------------------------------------------------
    web_dir: Path = Field(
        REPO_ROOT / "build" / "web",
        description="The built web page (`make web`) that the gateway serves under /app/, with "
        "the API docs' scripts.",
    )
    web_firebase_api_key: str = Field(
        "",
        description="The Firebase project's Web API key, for the page's sign-in (public by "
        "design). Empty in `emulator` mode: any key works there.",
    )
    web_firebase_auth_domain: str = Field(
        "", description="The project's auth domain; empty: `<project id>.firebaseapp.com`."
    )
    web_auth_emulator_url: str = Field(
        "",
        description="Where the browser reaches the Auth Emulator (`emulator` mode); empty: "
        "`http://` + the auth emulator host.",
    )

    log_level: str = Field("INFO", description="Python logging level of both processes.")

    # --- Abuse resistance -------------------------------------------------------------------
    auth_check_revoked: bool | None = Field(
        None,
        description="Also reject revoked tokens and disabled users (one Firebase `get_user` "
        "call per verification, at most one per token per revocation window). Unset: on in "
        "production, off otherwise.",
    )
    auth_token_cache_size: int = Field(
        10_000,
        ge=0,
        description="Verified ID tokens each gateway process remembers (by SHA-256) until 30 s "
        "before they expire, instead of verifying them on every request; 0 turns it off.",
    )
    auth_revocation_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="With revocation checks on: how long a remembered token is trusted before "
        "it is verified again, revocation included; a revoked token or disabled user is "
        "refused at most this long after the change. 0: check on every request.",
    )
    auth_clock_skew_seconds: int = Field(
        0, ge=0, le=60, description="Clock skew tolerated on a token's `iat`/`exp`, in seconds."
    )
    app_check_enabled: bool = Field(
        False, description="Require a valid `X-Firebase-AppCheck` token on authenticated calls."
    )
    max_form_field_bytes: int = Field(
        1024, ge=1, description="Largest accepted non-file form field of an upload, in bytes."
    )
    rate_limit_window_seconds: int = Field(
        60, ge=1, description="Length of the per-user rate-limit window, in seconds."
    )
    upload_rate_limit: int = Field(
        30, ge=0, description="Uploads per user per window (0 = unlimited); over it: 429."
    )
    poll_rate_limit: int = Field(
        300, ge=0, description="Result polls per user per window (0 = unlimited); over it: 429."
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed by CORS, as a JSON list (`["https://app.example"]`); '
        "empty: no CORS headers.",
    )

    @property
    def broker_urls(self) -> list[str]:
        """The RabbitMQ nodes to connect to, in the order to try them."""
        return [str(url) for url in self.amqp_urls] or [str(self.amqp_url)]

    @property
    def redis_sentinel_addresses(self) -> list[tuple[str, int]]:
        return [
            (host.strip("[]"), int(port))
            for host, _, port in (address.rpartition(":") for address in self.redis_sentinels)
        ]

    @property
    def check_revoked(self) -> bool:
        """Whether token verification also asks Firebase about revocation and disabled users."""
        if self.auth_check_revoked is None:
            return self.environment is Environment.PRODUCTION
        return self.auth_check_revoked

    # --- Operations: metrics and push ---------------------------------------------------------
    worker_metrics_host: str = Field(
        "127.0.0.1", description="Address of the worker's Prometheus endpoint."
    )
    worker_metrics_port: int = Field(
        9100,
        ge=0,
        le=65535,
        description="Port of the worker's Prometheus endpoint (`/metrics`); 0 disables it. "
        "Each worker process needs its own.",
    )
    tracing_enabled: bool = Field(
        False,
        description="OpenTelemetry traces of every upload, from the client's `traceparent` "
        "through the queue to the worker, sent to `otlp_traces_endpoint`.",
    )
    otlp_traces_endpoint: str = Field(
        "http://127.0.0.1:4318/v1/traces",
        description="OTLP/HTTP (protobuf) traces endpoint of the collector (Jaeger, Tempo, the "
        "OpenTelemetry Collector).",
    )
    tracing_sample_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded; a client's sampled `traceparent` is always "
        "followed.",
    )
    push_notifications: bool = Field(
        False,
        description="Workers send an FCM data message to the device whose registration token "
        "came with the upload; needs the service-account credentials of `firebase` mode.",
    )

    # --- Object storage (photos) ---------------------------------------------------------------
    object_store_endpoint_url: str | None = Field(
        "http://127.0.0.1:9000",
        description="S3 API endpoint the gateway and workers talk to (s3rver from `make run`, "
        "MinIO in docker-compose); empty: AWS S3 of `object_store_region`.",
    )
    object_store_public_url: str | None = Field(
        None,
        description="Endpoint the presigned URLs name, where phones reach the store when it "
        "differs from `object_store_endpoint_url` (e.g. `http://localhost:9000` for MinIO "
        "in docker-compose); unset: the same endpoint.",
    )
    object_store_region: str = Field("us-east-1", description="Region of the bucket.")
    object_store_access_key_id: str = Field(
        "S3RVER", description="Access key of the object store (s3rver's development pair)."
    )
    object_store_secret_access_key: SecretStr = Field(
        SecretStr("S3RVER"), description="Secret key of the object store."
    )
    object_store_bucket: str = Field(
        "snapmatch-photos",
        min_length=3,
        max_length=63,
        description="Bucket of the photos (originals and processed images); created private by "
        "the gateway at start when missing, with the retention lifecycle rule where supported.",
    )
    object_store_timeout_seconds: float = Field(
        5.0, gt=0, description="Connect and read timeout of each object-store request."
    )
    object_store_max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Attempts per object-store call (boto3's standard retry mode, with "
        "exponential back-off); the worker then returns the task to the queue, and fails it "
        "with `object_store_unavailable` on its last delivery.",
    )
    image_url_ttl_seconds: int = Field(
        300,
        ge=1,
        le=7 * 24 * 3600,
        description="Lifetime of the presigned `original_url` and `processed_url` in a result.",
    )
    upload_url_ttl_seconds: int = Field(
        900,
        ge=1,
        le=7 * 24 * 3600,
        description="Lifetime of a direct upload's presigned PUT URL; the upload must then be "
        "submitted with `POST /predict` within as long again.",
    )
    claim_check_min_bytes: int = Field(
        256 * 1024,
        ge=0,
        description="Multipart uploads of at least this many bytes travel to the worker as an "
        "object key (claim check) instead of inline bytes; 0: always a key. Direct uploads "
        "always do.",
    )
    image_retention_days: int = Field(
        7,
        ge=1,
        description="Days a task's images are kept; older ones are deleted by the bucket's "
        "lifecycle rule where the store supports one, and by `python -m app.storage purge`.",
    )

    @field_validator("worker_preload_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @model_validator(mode="after")
    def _model_path_was_replaced(self) -> "Settings":
        if self.model_path is not None:
            raise ValueError(
                "SNAPMATCH_MODEL_PATH is no longer read: models are served from the registry "
                "(SNAPMATCH_MODEL_REGISTRY, filled by `make model`). Publish a file with "
                "`python -m tools.model.publish --registry <dir> <file.onnx>` and choose it "
                "with SNAPMATCH_DEFAULT_MODEL=<name> or per upload (form field `model`); see "
                "the README, 'Migrating from SNAPMATCH_MODEL_PATH'"
            )
        return self

    @model_validator(mode="after")
    def _refuse_emulator_in_production(self) -> "Settings":
        if self.environment is Environment.PRODUCTION and self.auth_mode is AuthMode.EMULATOR:
            raise ValueError(
                "auth_mode=emulator accepts unsigned tokens and is refused when "
                "environment=production; set SNAPMATCH_AUTH_MODE=firebase"
            )
        return self

    @model_validator(mode="after")
    def _app_check_needs_firebase_auth(self) -> "Settings":
        if self.app_check_enabled and self.auth_mode is not AuthMode.FIREBASE:
            raise ValueError(
                "app_check_enabled verifies tokens against Google's App Check keys and needs "
                "auth_mode=firebase"
            )
        return self

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_is_base64(cls, value: SecretStr | None) -> SecretStr | None:
        """`whsec_` + base64 of 24 to 64 bytes, as the Standard Webhooks libraries expect."""
        if value is None:
            return None
        encoded = value.get_secret_value().removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("webhook_secret must be whsec_ followed by base64") from None
        if not 24 <= len(key) <= 64:
            raise ValueError(f"webhook_secret holds {len(key)} bytes; use 24 to 64 random bytes")
        return value

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> "Settings":
        if self.webhook_url is not None and not self.webhook_secret:
            raise ValueError(
                "webhook_url is set without webhook_secret: receivers must be able to verify "
                "each delivery; set SNAPMATCH_WEBHOOK_SECRET=whsec_<base64 secret>"
            )
        return self

    @model_validator(mode="after")
    def _prefetch_fills_a_batch(self) -> "Settings":
        if self.worker_prefetch < self.worker_batch_max_size:
            raise ValueError(
                f"worker_prefetch ({self.worker_prefetch}) must be at least "
                f"worker_batch_max_size ({self.worker_batch_max_size}), or batches never fill"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings()

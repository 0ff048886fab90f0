"""At-least-once webhook delivery through Redis: an outbox that survives gateway restarts.

Each delivery is a payload in a hash and a due time in a sorted set (``contracts.redis_keys``).
Any gateway's deliverer claims due entries by pushing their due time a lease into the future
(one script, so two gateways never claim the same entry at once), POSTs them, and then removes
the entry (2xx), schedules the next attempt with exponential back-off and jitter, or gives up
after ``webhook_max_attempts`` (logged and counted). A gateway that dies mid-delivery leaves the
entry to become due again when its lease ends: a receiver may see a delivery twice, never zero
times, and de-duplicates on ``webhook-id``. Nothing here runs on the request or inference path.
"""

import asyncio
import contextlib
import json
import random
import time
from datetime import UTC, datetime

import httpx
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from app.core.metrics import GatewayMetrics
from app.webhooks.destination import RefusedDestinationError, check_destination
from app.webhooks.signing import payload, signed_headers, webhook_id
from config import Settings
from contracts.redis_keys import webhook_body_key, webhook_due_key
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)

_IDLE_SECONDS = 0.5  # how often an idle deliverer looks for due entries
_CLAIM_BATCH = 20
_ERROR_PAUSE_SECONDS = 1.0

# KEYS[1] due set. ARGV: now, lease end, count. Claims (re-scores) and returns due ids.
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return ids
"""


def backoff_seconds(attempts: int, *, first: float, longest: float) -> float:
    """The wait after ``attempts`` failed attempts: first, 2x, 4x, ... capped, +0-10 % jitter."""
    base = min(longest, first * 2.0 ** max(0, attempts - 1))
    return base * (1 + random.random() / 10)  # noqa: S311 - jitter, not cryptography


class WebhookOutbox:
    """Queues the webhook of a terminal result; safe to call twice for one result."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._due = webhook_due_key(settings.task_queue)
        self._bodies = webhook_body_key(settings.task_queue)

    async def enqueue(self, record: TaskRecord, *, result_url: str) -> None:
        msg_id = webhook_id(record.task_id)
        entry = json.dumps({"body": payload(record, result_url=result_url), "attempts": 0})
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(self._bodies, msg_id, entry)
        pipe.zadd(self._due, {msg_id: time.time()}, nx=True)
        await pipe.execute()


class WebhookDeliverer:
    """Background task of each gateway: delivers due webhooks to ``webhook_url``."""

    def __init__(self, settings: Settings, redis: aioredis.Redis, metrics: GatewayMetrics) -> None:
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        self._url = str(settings.webhook_url)
        self._host = settings.webhook_url.host or ""
        self._port = settings.webhook_url.port or (443 if self._url.startswith("https") else 80)
        self._secret = settings.webhook_secret.get_secret_value()
        self._allow_private = settings.webhook_allow_private_destinations
        self._max_attempts = settings.webhook_max_attempts
        self._first_backoff = settings.webhook_backoff_seconds
        self._longest_backoff = settings.webhook_backoff_max_seconds
        self._timeout = settings.webhook_timeout_seconds
        self._redis = redis
        self._metrics = metrics
        self._due = webhook_due_key(settings.task_queue)
        self._bodies = webhook_body_key(settings.task_queue)
        self._claim = redis.register_script(_CLAIM)
        self._client = httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, trust_env=False
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._deliver_forever(), name="webhook-deliverer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _deliver_forever(self) -> None:
        while True:
            try:
                delivered = await self.deliver_due()
            except RedisError as exc:
                logger.warning("webhook outbox unavailable", error=str(exc))
                await asyncio.sleep(_ERROR_PAUSE_SECONDS)
                continue
            except Exception:  # a bug must not end deliveries for good: leased entries return
                logger.exception("webhook delivery failed unexpectedly; continuing")
                await asyncio.sleep(_ERROR_PAUSE_SECONDS)
                continue
            if not delivered:
                await asyncio.sleep(_IDLE_SECONDS)

    async def deliver_due(self) -> int:
        """Attempt every due delivery once; how many were attempted."""
        now = time.time()
        lease_end = now + self._timeout * 2 + 5
        claimed = await self._claim(keys=[self._due], args=[now, lease_end, _CLAIM_BATCH])
        if claimed:
            await asyncio.gather(*(self._attempt(self._text(msg_id)) for msg_id in claimed))
        return len(claimed)

    async def _attempt(self, msg_id: str) -> None:
        raw = await self._redis.hget(self._bodies, msg_id)  # type: ignore[misc]
        if raw is None:  # delivered meanwhile by another gateway
            await self._redis.zrem(self._due, msg_id)
            return
        entry = json.loads(raw)
        failure = await self._post(msg_id, entry["body"])
        if failure is None:
            await self._forget(msg_id)
            self._metrics.webhooks_sent.inc()
            logger.info("webhook delivered", webhook_id=msg_id, attempt=entry["attempts"] + 1)
            return
        attempts = entry["attempts"] + 1
        if attempts >= self._max_attempts:
            await self._forget(msg_id)
            self._metrics.webhooks_failed.inc()
            logger.error("webhook given up", webhook_id=msg_id, attempts=attempts, reason=failure)
            return
        delay = backoff_seconds(attempts, first=self._first_backoff, longest=self._longest_backoff)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._bodies, msg_id, json.dumps(entry | {"attempts": attempts}))
        pipe.zadd(self._due, {msg_id: time.time() + delay}, xx=True)
        await pipe.execute()
        self._metrics.webhooks_retried.inc()
        logger.warning(
            "webhook not delivered; will retry",
            webhook_id=msg_id,
            attempt=attempts,
            retry_in_s=round(delay, 2),
            reason=failure,
        )

    async def _post(self, msg_id: str, body: str) -> str | None:
        """None when the receiver accepted the delivery (2xx), else why not."""
        try:
            await check_destination(self._host, self._port, allow_private=self._allow_private)
        except RefusedDestinationError as exc:
            return str(exc)
        headers = signed_headers(self._secret, msg_id, body, datetime.now(UTC))
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"answered {response.status_code}"

    async def _forget(self, msg_id: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hdel(self._bodies, msg_id)
        pipe.zrem(self._due, msg_id)
        await pipe.execute()

    @staticmethod
    def _text(value: bytes | str) -> str:
        return value.decode() if isinstance(value, bytes) else value

"""The worker's side of the Redis result store.

With ``SNAPMATCH_REDIS_MIN_REPLICA_ACKS`` above 0, a result counts as stored only once that many
replicas have it (Redis ``WAIT``): a primary that dies right after answering the write cannot
take an acked result with it, since Sentinel promotes the replica with the most data.
"""

from typing import Any

import redis
import structlog
from redis.client import Pipeline
from redis.sentinel import Sentinel

from config import Settings
from config.redis_sentinel import primary_options, sentinel_options
from contracts.redis_keys import RESULT_CHANNEL, result_announcement, task_key
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)

_TIMEOUT_SECONDS = 5.0


class ResultNotReplicatedError(redis.RedisError):
    """The primary stored the result but too few replicas confirmed it in time; the task must
    stay unacked (a ``RedisError``, so the worker retries it like any Redis outage)."""


class ResultWriter:
    def __init__(self, settings: Settings) -> None:
        self._ttl = settings.result_ttl_seconds
        self._min_replicas = settings.redis_min_replica_acks
        self._replica_timeout_ms = settings.redis_replica_ack_timeout_ms
        self._redis = _client(
            settings, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
        )

    def get(self, task_id: str) -> TaskRecord | None:
        raw = self._redis.get(task_key(task_id))
        return None if raw is None else TaskRecord.from_json(raw)  # type: ignore[arg-type]

    def put(self, record: TaskRecord) -> None:
        """Store a terminal result (it replaces the pending marker and expires after the TTL),
        then announce it, record included, to long-polling gateways; both in one round trip,
        with the wait for the replicas when they are required."""
        stored = record.to_json()
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(task_key(record.task_id), stored, ex=self._ttl)
        pipe.publish(RESULT_CHANNEL, result_announcement(record.task_id, stored))
        self._confirm_replicated(pipe, record.task_id)

    def ensure_replicated(self, record: TaskRecord) -> None:
        """A result found already stored may never have reached a replica (its worker may have
        died waiting for them): confirm it has before its redelivery is acked.

        Rewriting it in place (same value, same expiry, only if it still exists) puts a write of
        this connection after it in the replication stream, so ``WAIT`` for that write proves
        the replicas have the result too.
        """
        if self._min_replicas == 0:
            return
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(task_key(record.task_id), record.to_json(), xx=True, keepttl=True)
        self._confirm_replicated(pipe, record.task_id)

    def _confirm_replicated(self, pipe: Pipeline, task_id: str) -> None:
        """Run ``pipe`` (writes), followed by ``WAIT`` when replicas are required."""
        if self._min_replicas == 0:
            pipe.execute()
            return
        pipe.wait(self._min_replicas, self._replica_timeout_ms)
        replicas = int(pipe.execute()[-1])
        if replicas < self._min_replicas:
            logger.warning(
                "result not yet on enough replicas; holding the task",
                task_id=task_id,
                replicas=replicas,
                required=self._min_replicas,
            )
            raise ResultNotReplicatedError(
                f"{replicas} of {self._min_replicas} replicas confirmed the result "
                f"within {self._replica_timeout_ms} ms"
            )

    def close(self) -> None:
        self._redis.close()


def _client(settings: Settings, **options: Any) -> redis.Redis:
    """The primary at ``redis_url``, or the one the Sentinels name (``config.redis_sentinel``)."""
    if not settings.redis_sentinels:
        return redis.Redis.from_url(str(settings.redis_url), **options)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        settings.redis_sentinel_addresses,
        sentinel_kwargs=sentinel_options(settings, timeout_seconds=_TIMEOUT_SECONDS),
        **primary_options(settings),
        **options,
    )
    primary: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        settings.redis_sentinel_service
    )
    return primary

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
from contracts.redis_keys import (
    EVENT_RECORD_FIELD,
    EVENTS_MAX_LENGTH,
    RESULT_CHANNEL,
    cancelled_key,
    events_key,
    result_announcement,
    task_key,
)
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)

_TIMEOUT_SECONDS = 5.0

# KEYS: the task's key, its cancel marker, the queue's event stream.
# ARGV: record JSON, result TTL, announcement (task id + record), stream length bound,
# announcement channel, event field.
# A deleted task's result is never stored (nor announced); otherwise the result, its event
# and its announcement are written together, so every stored result has its event.
_STORE = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', ARGV[6], ARGV[1])
redis.call('PUBLISH', ARGV[5], ARGV[3])
return 1
"""


class ResultNotReplicatedError(redis.RedisError):
    """The primary stored the result but too few replicas confirmed it in time; the task must
    stay unacked (a ``RedisError``, so the worker retries it like any Redis outage)."""


class ResultWriter:
    def __init__(self, settings: Settings) -> None:
        self._ttl = settings.result_ttl_seconds
        self._min_replicas = settings.redis_min_replica_acks
        self._replica_timeout_ms = settings.redis_replica_ack_timeout_ms
        self._events = events_key(settings.task_queue)
        self._redis = _client(
            settings, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
        )

    def get(self, task_id: str) -> TaskRecord | None:
        raw = self._redis.get(task_key(task_id))
        return None if raw is None else TaskRecord.from_json(raw)  # type: ignore[arg-type]

    def is_cancelled(self, task_id: str) -> bool:
        return bool(self._redis.exists(cancelled_key(task_id)))

    def put(self, record: TaskRecord) -> bool:
        """Store a terminal result (it replaces the pending marker and expires after the TTL),
        append its event to the queue's stream (history rows, webhooks) and announce it, record
        included, to long-polling gateways: one script in one round trip, with the wait for the
        replicas when they are required. False, and nothing written, when the task was deleted.
        """
        stored = record.to_json()
        pipe = self._redis.pipeline(transaction=False)
        # EVAL with the script's text, not a registered Script: redis-py checks a pipeline's
        # registered scripts with a SCRIPT EXISTS round trip before every execute.
        pipe.eval(
            _STORE,
            3,
            task_key(record.task_id),
            cancelled_key(record.task_id),
            self._events,
            stored,
            self._ttl,
            result_announcement(record.task_id, stored),
            EVENTS_MAX_LENGTH,
            RESULT_CHANNEL,
            EVENT_RECORD_FIELD,
        )
        return bool(self._confirm_replicated(pipe, record.task_id)[0])

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

    def _confirm_replicated(self, pipe: Pipeline, task_id: str) -> list[Any]:
        """Run ``pipe`` (writes), followed by ``WAIT`` when replicas are required; return the
        writes' replies."""
        if self._min_replicas == 0:
            return list(pipe.execute())
        pipe.wait(self._min_replicas, self._replica_timeout_ms)
        replies = list(pipe.execute())
        replicas = int(replies[-1])
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
        return replies[:-1]

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

"""The worker's side of the Redis result store."""

import redis

from config import Settings
from contracts.redis_keys import RESULT_CHANNEL, task_key
from contracts.results import TaskRecord


class ResultWriter:
    def __init__(self, settings: Settings) -> None:
        self._ttl = settings.result_ttl_seconds
        self._redis = redis.Redis.from_url(
            str(settings.redis_url), socket_timeout=5.0, socket_connect_timeout=5.0
        )

    def get(self, task_id: str) -> TaskRecord | None:
        raw = self._redis.get(task_key(task_id))
        return None if raw is None else TaskRecord.from_json(raw)  # type: ignore[arg-type]

    def put(self, record: TaskRecord) -> None:
        """Store a terminal result (it replaces the pending marker and expires after the TTL),
        then announce its task id to long-polling gateways; both in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(task_key(record.task_id), record.to_json(), ex=self._ttl)
        pipe.publish(RESULT_CHANNEL, record.task_id)
        pipe.execute()

    def close(self) -> None:
        self._redis.close()

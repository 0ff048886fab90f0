"""The gateway's view of the Redis result store."""

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from config import Settings
from contracts.redis_keys import task_key
from contracts.results import TaskRecord


class ResultStoreUnavailableError(Exception):
    """Redis did not answer; the client should retry later."""


class ResultStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._redis = aioredis.Redis.from_url(
            str(settings.redis_url),
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
            health_check_interval=30,
        )

    async def add_pending(self, record: TaskRecord) -> None:
        """Record the task before it is queued, so a poll right after the 202 sees it pending."""
        try:
            await self._redis.set(
                task_key(record.task_id),
                record.to_json(),
                ex=self._settings.pending_ttl_seconds,
                nx=True,
            )
        except RedisError as exc:
            raise ResultStoreUnavailableError(str(exc)) from exc

    async def discard(self, task_id: str) -> None:
        """Forget a task whose publish failed, so it does not stay pending forever."""
        try:
            await self._redis.delete(task_key(task_id))
        except RedisError as exc:
            raise ResultStoreUnavailableError(str(exc)) from exc

    async def get(self, task_id: str) -> TaskRecord | None:
        try:
            raw = await self._redis.get(task_key(task_id))
        except RedisError as exc:
            raise ResultStoreUnavailableError(str(exc)) from exc
        return None if raw is None else TaskRecord.from_json(raw)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())  # type: ignore[misc]
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()

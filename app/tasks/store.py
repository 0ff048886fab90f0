"""The gateway's view of task records in Redis: reserve a task before it is queued, read it.

A reservation writes the task's ``pending`` record and, for an upload with an
``Idempotency-Key``, binds the key to the task: both in one atomic Lua script, so a live binding
always has its task's record and a binding whose record has expired is taken over.
"""

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.core.metrics import GatewayMetrics
from app.tasks.idempotency import IdempotencyKey
from config import Settings
from contracts.redis_keys import TASK_KEY_PREFIX, task_key
from contracts.results import TaskRecord

# KEYS[1] the task's key, KEYS[2] the idempotency key (optional).
# ARGV: record, pending TTL, binding, binding TTL, task key prefix.
# Returns the earlier binding when the key is bound to a task that still exists, else nil.
_RESERVE = """
if KEYS[2] then
  local existing = redis.call('GET', KEYS[2])
  if existing and redis.call('EXISTS', ARGV[5] .. cjson.decode(existing)['task_id']) == 1 then
    return existing
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX')
if KEYS[2] then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
end
return false
"""


class ResultStoreUnavailableError(Exception):
    """Redis did not answer; the client should retry later."""


@dataclass(frozen=True, slots=True)
class Reservation:
    task_id: str  # the task to answer with: the new one, or the earlier one of a replay
    replayed: bool
    keys: tuple[str, ...]  # what to delete if the new task cannot be queued


class TaskStore:
    def __init__(
        self, settings: Settings, redis: aioredis.Redis, metrics: GatewayMetrics | None = None
    ) -> None:
        self._metrics = metrics
        self._pending_ttl = settings.pending_ttl_seconds
        # A binding outlives its task's longest possible record.
        self._binding_ttl = settings.pending_ttl_seconds + settings.result_ttl_seconds
        self._redis = redis
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self, record: TaskRecord, key: IdempotencyKey | None) -> Reservation:
        """Record the pending task (so a poll right after the 202 sees it) and bind ``key``
        to it; or, when ``key`` already names a live task, return that one instead.

        Raises IdempotencyKeyReusedError when ``key`` was used with another payload.
        """
        keys = [task_key(record.task_id)]
        binding = ""
        if key is not None:
            keys.append(key.redis_key)
            binding = key.binding(record.task_id)
        try:
            earlier = await self._reserve(
                keys=keys,
                args=[
                    record.to_json(),
                    self._pending_ttl,
                    binding,
                    self._binding_ttl,
                    TASK_KEY_PREFIX,
                ],
            )
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        if earlier is not None and key is not None:
            return Reservation(key.bound_task(earlier), replayed=True, keys=())
        return Reservation(record.task_id, replayed=False, keys=tuple(keys))

    async def release(self, reservation: Reservation) -> None:
        """Forget a reservation whose task could not be queued: no stale ``pending``, and the
        idempotency key is free for the client's retry."""
        if not reservation.keys:
            return
        try:
            await self._redis.delete(*reservation.keys)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def get(self, task_id: str) -> TaskRecord | None:
        try:
            raw = await self._redis.get(task_key(task_id))
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return None if raw is None else TaskRecord.from_json(raw)

    def _unavailable(self, exc: RedisError) -> ResultStoreUnavailableError:
        if self._metrics is not None:
            self._metrics.result_store_errors.inc()
        return ResultStoreUnavailableError(str(exc))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())  # type: ignore[misc]
        except (RedisError, OSError):
            return False

"""The gateway's view of task records in Redis: reserve a task before it is queued, read it.

A reservation writes the task's ``pending`` record and, for an upload with an
``Idempotency-Key``, binds the key to the task: both in one atomic Lua script, so a live binding
always has its task's record and a binding whose record has expired is taken over.
"""

import json
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.core.metrics import GatewayMetrics
from app.tasks.idempotency import IdempotencyKey
from config import Settings
from contracts.redis_keys import (
    TASK_KEY_PREFIX,
    batch_key,
    cancelled_key,
    owner_tasks_key,
    task_key,
)
from contracts.results import TaskRecord


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch upload: its owner and its tasks in upload order."""

    batch_id: str
    owner_uid: str
    task_ids: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps({"owner_uid": self.owner_uid, "task_ids": list(self.task_ids)})

    @classmethod
    def from_json(cls, batch_id: str, raw: bytes | str) -> "Batch":
        fields = json.loads(raw)
        return cls(batch_id, str(fields["owner_uid"]), tuple(map(str, fields["task_ids"])))


# KEYS[1] the task's key, KEYS[2] the owner's task set, KEYS[3] the idempotency key (optional).
# ARGV: record, pending TTL, binding, binding TTL, task key prefix, task id.
# Returns the earlier binding when the key is bound to a task that still exists, else nil.
_RESERVE = """
if KEYS[3] then
  local existing = redis.call('GET', KEYS[3])
  if existing and redis.call('EXISTS', ARGV[5] .. cjson.decode(existing)['task_id']) == 1 then
    return existing
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX')
redis.call('SADD', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
end
return false
"""

# KEYS[1] the task's key, KEYS[2] its cancel marker, KEYS[3] the owner's task set.
# ARGV: owner uid, marker TTL, task id.
# Returns 1 when the caller's task was found (and is now gone), 0 when there was none of theirs
# (someone else's task is left as it is).
_ERASE = """
local raw = redis.call('GET', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[3])
if not raw or cjson.decode(raw)['owner_uid'] ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
redis.call('DEL', KEYS[1])
return 1
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
        # A deleted task's marker outlives every record the task could still produce.
        self._cancel_ttl = self._binding_ttl
        self._redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._erase = redis.register_script(_ERASE)

    async def reserve(self, record: TaskRecord, key: IdempotencyKey | None) -> Reservation:
        """Record the pending task (so a poll right after the 202 sees it) and bind ``key``
        to it; or, when ``key`` already names a live task, return that one instead.

        Raises IdempotencyKeyReusedError when ``key`` was used with another payload.
        """
        keys = [task_key(record.task_id), owner_tasks_key(record.owner_uid)]
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
                    record.task_id,
                ],
            )
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        if earlier is not None and key is not None:
            return Reservation(key.bound_task(earlier), replayed=True, keys=())
        # Released on a refused publish: the record and the binding, not the owner's set.
        return Reservation(record.task_id, replayed=False, keys=(keys[0], *keys[2:]))

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

    async def erase(self, task_id: str, owner_uid: str) -> bool:
        """Delete ``owner_uid``'s task record and mark the task cancelled (a worker skips it
        and stores no result). True when a record of theirs existed; someone else's task is
        left alone and answers False."""
        try:
            found = await self._erase(
                keys=[task_key(task_id), cancelled_key(task_id), owner_tasks_key(owner_uid)],
                args=[owner_uid, self._cancel_ttl, task_id],
            )
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return bool(found)

    async def is_cancelled(self, task_id: str) -> bool:
        try:
            return bool(await self._redis.exists(cancelled_key(task_id)))
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def owner_task_ids(self, owner_uid: str) -> set[str]:
        """The ids of ``owner_uid``'s tasks that may still have a record in Redis."""
        try:
            members = await self._redis.smembers(owner_tasks_key(owner_uid))  # type: ignore[misc]
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def put_batch(self, batch: Batch) -> None:
        try:
            await self._redis.set(batch_key(batch.batch_id), batch.to_json(), ex=self._binding_ttl)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    async def get_batch(self, batch_id: str) -> Batch | None:
        try:
            raw = await self._redis.get(batch_key(batch_id))
        except RedisError as exc:
            raise self._unavailable(exc) from exc
        return None if raw is None else Batch.from_json(batch_id, raw)

    def _unavailable(self, exc: RedisError) -> ResultStoreUnavailableError:
        if self._metrics is not None:
            self._metrics.result_store_errors.inc()
        return ResultStoreUnavailableError(str(exc))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())  # type: ignore[misc]
        except (RedisError, OSError):
            return False

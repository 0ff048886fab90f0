"""``Idempotency-Key`` for uploads: a retried upload returns the first task, never a second job.

Semantics of the IETF httpapi idempotency-key draft, scoped per user: the first request with a
key binds it to its payload's fingerprint and its task; a later request with the same key and the
same payload gets that task back; the same key with another payload is refused. The binding lives
as long as the task's record: once the result has expired, the key is free again.
"""

import hashlib
import json
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from config import Settings
from contracts.redis_keys import TASK_KEY_PREFIX, idempotency_key

# Atomically: keep a binding whose task still exists (return it), else bind the key to ARGV[1].
# The caller writes its task's pending record *before* claiming, so a live binding's task key
# always exists and a missing one means the task's result has expired.
_CLAIM = """
local existing = redis.call('GET', KEYS[1])
if existing then
  local task_id = cjson.decode(existing)['task_id']
  if redis.call('EXISTS', ARGV[3] .. task_id) == 1 then
    return existing
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


class IdempotencyUnavailableError(Exception):
    """Redis did not answer."""


class IdempotencyKeyReusedError(Exception):
    """The key was already used by this user for a different payload."""


@dataclass(frozen=True, slots=True)
class Claim:
    task_id: str
    replayed: bool  # True: an earlier request with this key created ``task_id``


def fingerprint(image: bytes) -> str:
    """What must match for a request to count as a retry: the uploaded bytes."""
    return hashlib.sha256(image).hexdigest()


class IdempotencyStore:
    def __init__(self, settings: Settings) -> None:
        self._ttl = settings.pending_ttl_seconds + settings.result_ttl_seconds
        self._redis = aioredis.Redis.from_url(
            str(settings.redis_url), socket_timeout=2.0, socket_connect_timeout=2.0
        )
        self._claim = self._redis.register_script(_CLAIM)

    async def claim(
        self, *, owner_uid: str, client_key: str, payload_fingerprint: str, task_id: str
    ) -> Claim:
        """Bind ``client_key`` to ``task_id``, or return the task it is already bound to."""
        record = json.dumps({"fingerprint": payload_fingerprint, "task_id": task_id})
        try:
            existing = await self._claim(
                keys=[idempotency_key(owner_uid, client_key)],
                args=[record, self._ttl, TASK_KEY_PREFIX],
            )
        except RedisError as exc:
            raise IdempotencyUnavailableError(str(exc)) from exc
        if existing is None:
            return Claim(task_id=task_id, replayed=False)
        bound = json.loads(existing)
        if bound["fingerprint"] != payload_fingerprint:
            raise IdempotencyKeyReusedError(client_key)
        return Claim(task_id=str(bound["task_id"]), replayed=True)

    async def release(self, *, owner_uid: str, client_key: str) -> None:
        """Forget a binding whose task could not be queued, so that a retry can try again."""
        try:
            await self._redis.delete(idempotency_key(owner_uid, client_key))
        except RedisError as exc:
            raise IdempotencyUnavailableError(str(exc)) from exc

    async def close(self) -> None:
        await self._redis.aclose()

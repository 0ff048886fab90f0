"""``Idempotency-Key`` for uploads: a retried upload returns the first task, never a second job.

Semantics of the IETF httpapi idempotency-key draft, scoped per user: the first request with a
key binds it to its payload's fingerprint and its task; a later request with the same key and the
same payload gets that task back; the same key with another payload is refused. The binding lives
as long as the task's record: once the result has expired, the key is free again. The binding
is written by the same Lua script as the task's pending record (``app.tasks.store``).
"""

import hashlib
import json
from dataclasses import dataclass

from contracts.redis_keys import idempotency_key


class IdempotencyKeyReusedError(Exception):
    """The key was already used by this user for a different payload."""


def fingerprint(image: bytes, model: str = "") -> str:
    """What must match for a request to count as a retry: the uploaded bytes and the model
    asked for (the same photo for another model is another request)."""
    digest = hashlib.sha256(image)
    if model:
        digest.update(b"\0model=" + model.encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """One user's ``Idempotency-Key`` header with the fingerprint of the payload it came with."""

    owner_uid: str
    client_key: str
    payload_fingerprint: str

    @property
    def redis_key(self) -> str:
        return idempotency_key(self.owner_uid, self.client_key)

    def binding(self, task_id: str) -> str:
        """What the key is bound to: ``{"fingerprint", "task_id"}``."""
        return json.dumps({"fingerprint": self.payload_fingerprint, "task_id": task_id})

    def bound_task(self, binding: bytes | str) -> str:
        """The task of an earlier binding; IdempotencyKeyReusedError for another payload."""
        bound = json.loads(binding)
        if bound["fingerprint"] != self.payload_fingerprint:
            raise IdempotencyKeyReusedError(self.client_key)
        return str(bound["task_id"])

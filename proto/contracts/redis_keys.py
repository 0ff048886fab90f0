"""Redis key layout: the result store, and the gateway's idempotency and rate-limit keys."""

import hashlib

TASK_KEY_PREFIX = "snapmatch:task:"

# Pub/sub channel a worker publishes a task id on right after storing that task's terminal
# result, so a gateway holding a long-poll wakes up at once instead of polling. Pub/sub is
# at-most-once and not scoped to a database number: a message is only a hint to re-read the key.
RESULT_CHANNEL = "snapmatch:results"


def task_key(task_id: str) -> str:
    """Key holding the JSON ``TaskRecord`` of one task (pending marker, then its result)."""
    return f"{TASK_KEY_PREFIX}{task_id}"


# --- Abuse resistance (gateway only) ---------------------------------------------------------

IDEMPOTENCY_KEY_PREFIX = "snapmatch:idempotency:"

#: Prefix of the rate-limit counters; the ``limits`` library appends
#: ``<scope>/<uid>/<amount>/<window>/second`` (e.g. ``snapmatch:ratelimit:upload/u1/30/60/second``).
RATE_LIMIT_KEY_PREFIX = "snapmatch:ratelimit"


def idempotency_key(owner_uid: str, client_key: str) -> str:
    """Key holding ``{"fingerprint", "task_id"}`` for one user's ``Idempotency-Key``.

    The client's key is hashed so that any header value makes a short, safe Redis key, and it
    is scoped by user: two users choosing the same key never meet.
    """
    digest = hashlib.sha256(client_key.encode("utf-8")).hexdigest()
    return f"{IDEMPOTENCY_KEY_PREFIX}{owner_uid}:{digest}"


# --- Direct uploads (gateway only) -----------------------------------------------------------

UPLOAD_KEY_PREFIX = "snapmatch:upload:"


def upload_key(owner_uid: str, upload_id: str) -> str:
    """Key holding ``{"content_type", "size_bytes"}`` of one user's direct upload, from
    ``POST /uploads`` until it expires. Scoped by user: another user's upload id finds nothing."""
    return f"{UPLOAD_KEY_PREFIX}{owner_uid}:{upload_id}"


def upload_submitted_key(owner_uid: str, upload_id: str) -> str:
    """Set (NX) by the ``POST /predict`` that submits the upload: a second submission of the
    same upload gets the same task back instead of queueing it twice."""
    return f"{upload_key(owner_uid, upload_id)}:submitted"

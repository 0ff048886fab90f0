"""Redis key layout: the result store, and the gateway's idempotency and rate-limit keys."""

import hashlib

TASK_KEY_PREFIX = "snapmatch:task:"

# Pub/sub channel a worker publishes on right after storing a task's terminal result, so a
# gateway holding a long-poll wakes up at once instead of polling: the task id, a newline and
# the stored JSON record (``result_announcement``), so the woken request answers without reading
# the key again. A bare task id (older workers) is a hint to re-read the key. Pub/sub is
# at-most-once and not scoped to a database number: waiters never rely on it alone.
RESULT_CHANNEL = "snapmatch:results"


def result_announcement(task_id: str, record_json: bytes) -> bytes:
    """The message announcing ``task_id``'s stored result on ``RESULT_CHANNEL``."""
    return task_id.encode() + b"\n" + record_json


def parse_announcement(message: str) -> tuple[str, str | None]:
    """(task id, the stored JSON record, or None when the message carries only the id)."""
    task_id, _, record_json = message.partition("\n")
    return task_id, record_json or None


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


# --- Task lifecycle: cancellation, per-user index, batches, terminal-result events ----------

CANCELLED_KEY_PREFIX = "snapmatch:cancelled:"
OWNER_TASKS_KEY_PREFIX = "snapmatch:owner-tasks:"
BATCH_KEY_PREFIX = "snapmatch:batch:"
EVENTS_KEY_PREFIX = "snapmatch:events:"
WEBHOOK_DUE_KEY_PREFIX = "snapmatch:webhooks:due:"
WEBHOOK_BODY_KEY_PREFIX = "snapmatch:webhooks:body:"

#: Field of an event stream entry that holds the terminal ``TaskRecord`` as JSON
#: (``contracts.results``): the event is the result itself, written in the same script.
EVENT_RECORD_FIELD = "record"
#: Consumer group of the gateways on an event stream (history rows, webhooks).
EVENT_CONSUMER_GROUP = "gateways"
#: An event stream keeps about this many entries; older ones are trimmed even if unread.
EVENTS_MAX_LENGTH = 100_000


def cancelled_key(task_id: str) -> str:
    """Set (with a TTL) when a task is deleted: a worker that meets the task afterwards skips
    it, and a result finished meanwhile is not stored."""
    return f"{CANCELLED_KEY_PREFIX}{task_id}"


def owner_tasks_key(owner_uid: str) -> str:
    """Set of one user's task ids that may still have a record, for "delete my data"."""
    return f"{OWNER_TASKS_KEY_PREFIX}{owner_uid}"


def batch_key(batch_id: str) -> str:
    """Key holding ``{"owner_uid", "task_ids"}`` of one batch upload."""
    return f"{BATCH_KEY_PREFIX}{batch_id}"


def events_key(task_queue: str) -> str:
    """Stream of terminal-result events of the tasks of ``task_queue``, appended by workers in
    the same script that stores each result; scoped by queue like the queue itself."""
    return f"{EVENTS_KEY_PREFIX}{task_queue}"


def webhook_due_key(task_queue: str) -> str:
    """Sorted set: webhook deliveries of ``task_queue``'s tasks, scored by when each is due."""
    return f"{WEBHOOK_DUE_KEY_PREFIX}{task_queue}"


def webhook_body_key(task_queue: str) -> str:
    """Hash: each pending webhook delivery's payload and attempt count, by webhook id."""
    return f"{WEBHOOK_BODY_KEY_PREFIX}{task_queue}"

"""What one webhook delivery carries: the payload, its id, and the Standard Webhooks headers.

The signature is the ``standardwebhooks`` reference library's: ``v1,`` + base64 of
HMAC-SHA256(secret, ``{webhook-id}.{webhook-timestamp}.{body}``). The id is the same on every
attempt of one result (receivers de-duplicate on it); the timestamp is the attempt's own, so a
receiver's 5-minute replay window holds for retries hours later.
"""

import json
from datetime import datetime

from standardwebhooks.webhooks import Webhook

from contracts.results import TaskRecord, TaskStatus

EVENT_TYPES = {TaskStatus.DONE: "task.done", TaskStatus.FAILED: "task.failed"}


def webhook_id(task_id: str) -> str:
    """One id per terminal result: a retry, or a redelivered event, repeats it."""
    return f"msg_{task_id.replace('-', '')}"


def payload(record: TaskRecord, *, result_url: str) -> str:
    """The body, as the exact text that is signed and sent on every attempt."""
    body = {
        "type": EVENT_TYPES[record.status],
        "timestamp": (record.completed_at or record.submitted_at).isoformat(),
        "data": {
            "task_id": record.task_id,
            "owner_uid": record.owner_uid,
            "status": record.status.value,
            "result_url": result_url,
            "model": record.model.model_dump() if record.model else None,
            "predictions": [p.model_dump() for p in record.predictions],
            "error": record.error.model_dump(mode="json") if record.error else None,
            "submitted_at": record.submitted_at.isoformat(),
            "completed_at": record.completed_at.isoformat() if record.completed_at else None,
        },
    }
    return json.dumps(body, separators=(",", ":"))


def signed_headers(secret: str, msg_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, plus the content type."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, sent_at, body),
    }

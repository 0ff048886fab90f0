"""The opaque page cursor of ``GET /tasks``: where the previous page ended.

Keyset pagination over (submitted_at, task_id), newest first, so a page never repeats or skips
a row when new tasks arrive between requests. The cursor is base64url JSON; clients must treat
it as opaque. Anything that does not decode to a well-formed position is refused.
"""

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime


class InvalidCursorError(ValueError):
    """The cursor was not produced by this server (or was altered)."""


@dataclass(frozen=True, slots=True)
class Position:
    """The last row of a page: the next page starts strictly after (older than) it."""

    submitted_at: datetime
    task_id: str


def encode_cursor(position: Position) -> str:
    raw = json.dumps({"t": position.submitted_at.isoformat(), "id": position.task_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position in ``cursor``; InvalidCursorError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(raw)
        submitted_at = datetime.fromisoformat(fields["t"])
        task_id = str(uuid.UUID(fields["id"]))
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise InvalidCursorError("the cursor is malformed; use next_cursor as given") from exc
    if submitted_at.tzinfo is None:
        raise InvalidCursorError("the cursor is malformed; use next_cursor as given")
    return Position(submitted_at=submitted_at, task_id=task_id)

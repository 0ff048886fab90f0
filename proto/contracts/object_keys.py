"""Object-store layout of a task's images, shared by the gateway (which stores the original and
signs URLs), the workers (which read the original and store what the model saw) and the
retention and deletion jobs.

Every object of a task lives under one prefix that names its owner's pseudonym and the task id,
so deleting a task's images is one prefix deletion scoped to its owner, whether or not its
result is still in Redis. A direct upload's object is written at its task's ``original`` key
from the start: the upload id becomes the task id.
"""

import hashlib
import re

#: Everything the project stores sits below this prefix of the bucket.
PHOTOS_PREFIX = "photos/"
ORIGINAL = "original"
PROCESSED = "processed.png"
PROCESSED_CONTENT_TYPE = "image/png"

_TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def owner_digest(owner_uid: str) -> str:
    """The owner's pseudonym in keys: the first 16 hex digits of the uid's SHA-256 (the same
    pseudonym the logs carry), so keys never show a Firebase uid."""
    return hashlib.sha256(owner_uid.encode()).hexdigest()[:16]


def owner_prefix(owner_uid: str) -> str:
    """``photos/<owner>/``: every object of one user ("delete my data")."""
    return f"{PHOTOS_PREFIX}{owner_digest(owner_uid)}/"


def task_prefix(owner_uid: str, task_id: str) -> str:
    """``photos/<owner>/<task id>/``: every object of one task, and nothing else."""
    if not _TASK_ID.match(task_id):
        raise ValueError(f"{task_id!r} is not a task id (a lower-case UUID)")
    return f"{owner_prefix(owner_uid)}{task_id}/"


def original_key(owner_uid: str, task_id: str) -> str:
    """The uploaded photo, byte for byte."""
    return task_prefix(owner_uid, task_id) + ORIGINAL


def processed_key(owner_uid: str, task_id: str) -> str:
    """The model's input as a PNG: the photo after EXIF rotation, resize and crop."""
    return task_prefix(owner_uid, task_id) + PROCESSED

"""The worker's side of the photo bucket: where a task's photo comes from, and keeping the
photo and what the model saw beside each other.

Both calls raise ``ObjectStoreUnavailableError`` once boto3's own retries are spent; the
processor then returns the task to the queue (the consumer's growing delay), and fails it with
``object_store_unavailable`` on its last delivery.
"""

import io

import structlog
from PIL import Image

from config.object_store import ObjectStore
from contracts.object_keys import PROCESSED_CONTENT_TYPE, original_key, processed_key
from contracts.results import StoredImages
from contracts.task_pb2 import TaskMessage

logger = structlog.stdlib.get_logger(__name__)


class TaskImages:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def photo(self, task: TaskMessage) -> bytes:
        """The photo's bytes: inline in the message, or fetched by its claim-check key.
        Raises ObjectNotFoundError when the object is gone (deleted with its task)."""
        if task.WhichOneof("image_source") == "image_key":
            return self._store.get(task.image_key)
        return task.image

    def stored_by_gateway(self, task: TaskMessage) -> StoredImages | None:
        """What is in the bucket without this worker doing anything: the original, when the
        gateway stored it. For failures that come before the photo was read."""
        if not task.original_stored:
            return None
        return StoredImages(original_key=original_key(task.owner_uid, task.task_id))

    def keep(
        self, task: TaskMessage, photo: bytes, model_input: Image.Image | None
    ) -> StoredImages:
        """Store what the gateway has not: the processed image (when the model ran), and the
        original of a message from a gateway that did not store it."""
        original = original_key(task.owner_uid, task.task_id)
        if not task.original_stored:
            self._store.put(original, photo, content_type=task.content_type)
        stored = StoredImages(original_key=original)
        if model_input is None:
            return stored
        processed = processed_key(task.owner_uid, task.task_id)
        self._store.put(processed, encode_png(model_input), content_type=PROCESSED_CONTENT_TYPE)
        return stored.model_copy(update={"processed_key": processed})


def encode_png(image: Image.Image) -> bytes:
    """Lossless, so the PNG holds exactly the model's input; light compression (level 1)
    because a 224x224 picture is small anyway and the worker's CPU is the bottleneck."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()

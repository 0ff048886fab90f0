"""Direct uploads: the phone PUTs its photo straight into the photo bucket with a presigned
URL, then submits it by id. The photo never passes through the gateway or the broker.

``POST /uploads`` records the declared type and size under the user's id in Redis and signs a
PUT of exactly that size and type to the key the task's original will have (the upload id is
the future task id). ``POST /predict`` with ``upload_id`` then checks, before queueing, that the
upload is this user's and unexpired, that the object is there, no larger than declared or
allowed (HEAD: stores such as s3rver do not enforce the signed length) and an image by its
first bytes (a ranged GET). A refused object is deleted. Submitting the same upload twice
returns the same task.
"""

import json
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from app.core.errors import APIError
from app.storage.photos import PhotoStore
from app.tasks.image_check import ACCEPTED_TYPES, sniff_content_type
from app.tasks.store import ResultStoreUnavailableError
from app.tasks.submit import Photo, Submission, TaskSubmitter
from config import Settings
from contracts.object_keys import original_key
from contracts.redis_keys import upload_key, upload_submitted_key

logger = structlog.stdlib.get_logger(__name__)

# Enough for every signature `image_check.sniff_content_type` knows.
_SNIFF_BYTES = 64


@dataclass(frozen=True, slots=True)
class UploadTicket:
    upload_id: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DirectUploadRequest:
    """The rest of a ``POST /predict`` that names an upload instead of sending a file."""

    upload_id: str
    model: str = ""
    fcm_token: str = ""


class DirectUploads:
    def __init__(
        self,
        settings: Settings,
        redis: aioredis.Redis,
        photos: PhotoStore,
        submitter: TaskSubmitter,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._photos = photos
        self._submitter = submitter
        # Long enough to PUT until the URL expires, then as long again to submit.
        self._record_ttl = 2 * settings.upload_url_ttl_seconds

    async def create(self, *, owner_uid: str, content_type: str, size_bytes: int) -> UploadTicket:
        """A presigned PUT for one photo of ``content_type`` and exactly ``size_bytes``.

        Raises APIError 415/413 for a type or size the gateway would refuse anyway, and
        ObjectStoreUnavailableError when the store is down (no URL to a store that is away).
        """
        if content_type not in ACCEPTED_TYPES:
            raise APIError(
                415,
                "unsupported_media_type",
                f"content_type must be one of {', '.join(ACCEPTED_TYPES)}",
            )
        if size_bytes > self._settings.max_upload_bytes:
            raise APIError(
                413,
                "payload_too_large",
                f"size_bytes exceeds the limit of {self._settings.max_upload_bytes} bytes",
            )
        await self._photos.require_available()  # no URL to a store that is away
        upload_id = str(uuid.uuid4())
        record = json.dumps({"content_type": content_type, "size_bytes": size_bytes})
        await self._redis_call(
            self._redis.set(upload_key(owner_uid, upload_id), record, ex=self._record_ttl)
        )
        url = self._photos.presign_upload(
            original_key(owner_uid, upload_id), content_type=content_type, size_bytes=size_bytes
        )
        expires_at = datetime.now(UTC) + timedelta(seconds=self._settings.upload_url_ttl_seconds)
        logger.info("upload created", upload_id=upload_id, bytes=size_bytes)
        return UploadTicket(upload_id, url, {"Content-Type": content_type}, expires_at)

    async def submit(
        self, request: DirectUploadRequest, *, owner_uid: str, idempotency_key: str | None
    ) -> Submission:
        """Check the uploaded object and queue it; the same upload again returns its task."""
        upload_id = _canonical(request.upload_id)
        raw = await self._redis_call(self._redis.get(upload_key(owner_uid, upload_id)))
        if raw is None:
            raise APIError(
                404, "upload_not_found", "no such upload for this user, or it has expired"
            )
        declared = json.loads(raw)
        submitted = upload_submitted_key(owner_uid, upload_id)
        if not await self._redis_call(self._redis.set(submitted, 1, nx=True, ex=self._record_ttl)):
            return Submission(upload_id, replayed=True)
        try:
            content_type, size = await self._check(owner_uid, upload_id, declared["size_bytes"])
            photo = Photo(
                data=b"",
                content_type=content_type,
                fcm_token=request.fcm_token,
                model=request.model,
                upload_id=upload_id,
                size_bytes=size,
            )
            return await self._submitter.submit(
                photo, owner_uid=owner_uid, idempotency_key=idempotency_key
            )
        except BaseException:
            # Not queued: the client may PUT again (422) or retry later (503).
            await self._redis_call(self._redis.delete(submitted), quiet=True)
            raise

    async def _check(self, owner_uid: str, upload_id: str, declared_size: int) -> tuple[str, int]:
        key = original_key(owner_uid, upload_id)
        size = await self._photos.size(key)
        if size is None:
            raise APIError(
                422,
                "upload_incomplete",
                "nothing was uploaded under this upload_id yet: PUT the photo to its URL first",
            )
        limit = min(declared_size, self._settings.max_upload_bytes)
        if size > limit:
            await self._refuse(owner_uid, upload_id)
            raise APIError(
                413,
                "payload_too_large",
                f"the uploaded object has {size} bytes; at most {limit} were declared and allowed",
            )
        content_type = sniff_content_type(await self._photos.read_head(key, _SNIFF_BYTES))
        if size == 0 or content_type is None:
            await self._refuse(owner_uid, upload_id)
            raise APIError(
                415,
                "unsupported_media_type",
                f"the uploaded object is not an image of a supported type "
                f"({', '.join(ACCEPTED_TYPES)})",
            )
        return content_type, size

    async def _refuse(self, owner_uid: str, upload_id: str) -> None:
        """An object that will never be processed: delete it and forget the upload."""
        await self._photos.delete(original_key(owner_uid, upload_id))
        await self._redis_call(self._redis.delete(upload_key(owner_uid, upload_id)), quiet=True)
        logger.info("upload refused and deleted", upload_id=upload_id)

    @staticmethod
    async def _redis_call(call: Awaitable[Any], *, quiet: bool = False) -> Any:
        """Redis trouble is the result store's: 503 ``result_store_unavailable``."""
        try:
            return await call
        except RedisError as exc:
            if quiet:
                return None
            raise ResultStoreUnavailableError(str(exc)) from exc


def _canonical(upload_id: str) -> str:
    try:
        return str(uuid.UUID(upload_id))
    except ValueError as exc:
        raise APIError(404, "upload_not_found", "no such upload for this user") from exc

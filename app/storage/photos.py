"""The photo bucket as the gateway uses it, without blocking the event loop.

boto3 is blocking; each call runs in a worker thread, at most ``_CONCURRENT_CALLS`` at once so
that a slow store cannot take every thread of the process. Presigning is local computation and
runs inline.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio
import anyio.to_thread
import structlog
from pydantic import BaseModel, Field

from config import Settings
from config.object_store import ObjectNotFoundError, ObjectStore, ObjectStoreUnavailableError
from contracts.object_keys import original_key, owner_prefix, task_prefix
from contracts.results import StoredImages

logger = structlog.stdlib.get_logger(__name__)
_T = TypeVar("_T")

_CONCURRENT_CALLS = 16


class ResultImages(BaseModel):
    """Short-lived links to a task's images, for its owner only."""

    original_url: str | None = Field(
        description="Presigned GET of the photo as uploaded; expires after "
        "`SNAPMATCH_IMAGE_URL_TTL_SECONDS`.",
        examples=[
            "http://127.0.0.1:9000/snapmatch-photos/photos/5d41402abc4b2a76/"
            "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11/original?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Expires=300&X-Amz-Signature=…"
        ],
    )
    processed_url: str | None = Field(
        description="Presigned GET of the model's input as a PNG (after EXIF rotation, resize "
        "and crop); null when the model did not run.",
        examples=[
            "http://127.0.0.1:9000/snapmatch-photos/photos/5d41402abc4b2a76/"
            "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11/processed.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Expires=300&X-Amz-Signature=…"
        ],
    )
    expires_at: datetime = Field(
        description="When both links stop working.", examples=["2026-12-01T10:05:00Z"]
    )


class PhotoStore:
    def __init__(self, settings: Settings, store: ObjectStore | None = None) -> None:
        self._settings = settings
        self._store = store or ObjectStore(settings)
        self._limiter = anyio.CapacityLimiter(_CONCURRENT_CALLS)
        self._bucket_ready = False

    async def _call(self, function: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        call = functools.partial(function, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the bucket if needed. A store that is down now only makes the gateway
        not ready (and uploads 503) until it answers: ``ping`` tries again."""
        try:
            await self._ensure_bucket()
        except ObjectStoreUnavailableError as exc:
            logger.warning("object store unavailable at start", reason=str(exc))

    async def _ensure_bucket(self) -> None:
        lifecycle = await self._call(
            self._store.ensure_bucket, retention_days=self._settings.image_retention_days
        )
        self._bucket_ready = True
        logger.info(
            "photo bucket ready",
            bucket=self._store.bucket,
            expiry="lifecycle rule" if lifecycle else "purge job only",
        )

    async def require_available(self) -> None:
        """Raise ObjectStoreUnavailableError unless the bucket answers (with the usual
        retries: a busy store is not a down one)."""
        try:
            if not self._bucket_ready:
                await self._ensure_bucket()
            await self._call(self._store.check_bucket)
        except ObjectNotFoundError as exc:
            raise ObjectStoreUnavailableError("the photo bucket is missing") from exc

    async def ping(self) -> bool:
        try:
            if not self._bucket_ready:
                await self._ensure_bucket()
            return await self._call(self._store.ping)
        except ObjectStoreUnavailableError:
            return False

    # --- a task's images ----------------------------------------------------------------------
    async def put_original(
        self, data: bytes, *, owner_uid: str, task_id: str, content_type: str
    ) -> str:
        """Store an uploaded photo unchanged; return its key."""
        key = original_key(owner_uid, task_id)
        await self._call(self._store.put, key, data, content_type=content_type)
        return key

    async def delete_task_images(self, *, task_id: str, owner_uid: str) -> int:
        """Delete every image of ``owner_uid``'s task ``task_id`` (original, processed);
        return how many objects there were. Safe to call twice, for a task without images,
        or for another user's task id (the keys are scoped by owner: nothing is found).
        Raises ObjectStoreUnavailableError."""
        deleted = await self._call(self._store.delete_prefix, task_prefix(owner_uid, task_id))
        logger.info("task images deleted", objects=deleted)
        return deleted

    async def delete_owner_images(self, *, owner_uid: str) -> int:
        """Delete every image of ``owner_uid`` ("delete my data"), including those of tasks
        whose result and history row are gone; return how many objects there were. Raises
        ObjectStoreUnavailableError."""
        deleted = await self._call(self._store.delete_prefix, owner_prefix(owner_uid))
        logger.info("all images of a user deleted", objects=deleted)
        return deleted

    def result_images(self, images: StoredImages | None) -> ResultImages | None:
        """Presigned GET URLs of a result's images (None for records without images)."""
        if images is None:
            return None
        ttl = self._settings.image_url_ttl_seconds
        return ResultImages(
            original_url=self._presign_get(images.original_key, ttl),
            processed_url=self._presign_get(images.processed_key, ttl),
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )

    def _presign_get(self, key: str | None, ttl: int) -> str | None:
        return None if key is None else self._store.presign_get(key, expires_in=ttl)

    # --- direct uploads -----------------------------------------------------------------------
    def presign_upload(self, key: str, *, content_type: str, size_bytes: int) -> str:
        return self._store.presign_put(
            key,
            content_type=content_type,
            size_bytes=size_bytes,
            expires_in=self._settings.upload_url_ttl_seconds,
        )

    async def size(self, key: str) -> int | None:
        """The object's size, or None when nothing is stored there."""
        try:
            return await self._call(self._store.size, key)
        except ObjectNotFoundError:
            return None

    async def read_head(self, key: str, length: int) -> bytes:
        return await self._call(self._store.read_head, key, length)

    async def delete(self, key: str) -> None:
        await self._call(self._store.delete, [key])

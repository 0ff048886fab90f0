"""POST /predict/batch and GET /batches/{batch_id}: up to 10 photos in one request."""

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.api.deps import (
    CatalogDep,
    ModelsDep,
    NotifierDep,
    PhotosDep,
    PollingUser,
    RateLimiterDep,
    SettingsDep,
    StoreDep,
    SubmitterDep,
    UploadingUser,
)
from app.api.openapi import error_responses
from app.api.params import IdempotencyKeyHeader, LongPollWait
from app.api.routes.results import owner_result, result_path
from app.api.schemas import (
    BatchAccepted,
    BatchNotReady,
    BatchResults,
    BatchTask,
    TaskNotReady,
    TaskResult,
)
from app.auth.rate_limit import RateLimitScope
from app.tasks.photos import checked_photos
from app.tasks.upload_form import (
    FCM_TOKEN_FIELD,
    IMAGES_FIELD,
    MAX_BATCH_IMAGES,
    MODEL_FIELD,
    read_batch_upload,
)
from app.tasks.waiter import wait_for_result
from contracts.results import TaskRecord

router = APIRouter(tags=["batches"])

BATCH_PATH = "/predict/batch"

_OPENAPI_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [IMAGES_FIELD],
                "additionalProperties": False,
                "properties": {
                    IMAGES_FIELD: {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BATCH_IMAGES,
                        "items": {"type": "string", "format": "binary"},
                        "description": f"1 to {MAX_BATCH_IMAGES} photos (JPEG, PNG, WebP, "
                        "HEIC/HEIF), each a file part named `images`, each checked like a "
                        "single upload.",
                    },
                    MODEL_FIELD: {"type": "string", "description": "As for `POST /predict`."},
                    FCM_TOKEN_FIELD: {
                        "type": "string",
                        "description": "As for `POST /predict`: one push per image.",
                    },
                },
            }
        }
    },
}

_SUBMIT_ERRORS = error_responses(
    {
        401: "Missing or invalid Firebase ID token (or App Check token, when required).",
        413: "More than 10 images (`too_many_images`), or a body, file, field or image over "
        "its limit (with `index`).",
        415: "An image is not a JPEG, PNG, WebP or HEIC/HEIF (with `index`).",
        422: "No `images` part, an empty or corrupt image (with `index`), an unknown `model`, "
        "or an `Idempotency-Key` already used with other photos. Nothing was queued.",
        429: "The batch's images would exceed the user's upload budget.",
        503: "Broker or result store unavailable, or the queue full; retry with the same "
        "`Idempotency-Key` to queue only what was not queued.",
    },
    {
        413: ("too_many_images", "a batch holds at most 10 images; split it"),
        415: ("unsupported_media_type", "images[3]: the file is not an image"),
    },
)

_READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(
        {
            401: "Missing or invalid Firebase ID token (or App Check token, when required).",
            422: "The batch id is not a UUID, or a bad `wait`.",
            429: "Too many polls by this user; retry after `Retry-After` seconds.",
            503: "Result store or token verification unavailable; retry later.",
        }
    ),
    404: {
        "model": BatchNotReady,
        "description": "`pending` (with Retry-After) while any task is queued or running; "
        "`not_found` for unknown, expired or someone else's batches.",
        "content": {
            "application/json": {
                "example": {
                    "batch_id": "7d1c2b8e-4b8f-4a57-a7d9-3c3f0a9b8e21",
                    "status": "pending",
                    "detail": "3 of 10 tasks are still in progress",
                }
            }
        },
    },
}


@router.post(
    BATCH_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    responses={
        202: {
            "description": "Every image queued, as a task of its own, in upload order; poll "
            "`/batches/{batch_id}` (the `Location` header) or each `result_url`.",
            "links": {
                "GetBatch": {
                    "operationId": "getBatch",
                    "parameters": {"batch_id": "$response.body#/batch_id"},
                }
            },
        },
        **_SUBMIT_ERRORS,
    },
    operation_id="createBatchPrediction",
    summary="Upload up to 10 photos at once",
    openapi_extra={"requestBody": _OPENAPI_BODY},
)
async def create_batch(
    request: Request,
    response: Response,
    user: UploadingUser,
    settings: SettingsDep,
    submitter: SubmitterDep,
    models: ModelsDep,
    rate_limiter: RateLimiterDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> BatchAccepted:
    # Read only now: authentication and the first upload of the budget have passed.
    upload = await read_batch_upload(
        request,
        max_bytes=settings.max_upload_bytes,
        max_field_bytes=settings.max_form_field_bytes,
    )
    model = models.for_upload(upload.model)  # 422 unknown_model: nothing is queued
    photos = checked_photos(
        upload.images,
        max_pixels=settings.max_image_pixels,
        model=model.name,
        fcm_token=upload.fcm_token,
    )
    # A batch of N photos spends N uploads (the first was spent before the body was read).
    await rate_limiter.hit(RateLimitScope.UPLOAD, user.uid, cost=len(photos) - 1)
    batch = await submitter.submit_batch(
        photos, owner_uid=user.uid, idempotency_key=idempotency_key
    )
    response.headers["Location"] = str(request.url_for("get_batch", batch_id=batch.batch_id).path)
    if batch.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return BatchAccepted(
        batch_id=batch.batch_id,
        tasks=[
            BatchTask(
                task_id=task_id,
                result_url=result_path(request, task_id),
            )
            for task_id in batch.task_ids
        ],
    )


@router.get(
    "/batches/{batch_id}",
    response_model=BatchResults,
    responses=_READ_RESPONSES,
    operation_id="getBatch",
    summary="Poll for a batch's results",
)
async def get_batch(
    batch_id: uuid.UUID,
    user: PollingUser,
    settings: SettingsDep,
    store: StoreDep,
    catalog: CatalogDep,
    notifier: NotifierDep,
    photos: PhotosDep,
    wait: LongPollWait = 0.0,
) -> BatchResults | JSONResponse:
    key = str(batch_id)
    batch = await store.get_batch(key)
    if batch is None or batch.owner_uid != user.uid:
        body = BatchNotReady(batch_id=key, status="not_found", detail="no such batch, or expired")
        return JSONResponse(body.model_dump(), status_code=404)
    # Every task waits at once, so the whole batch waits at most the one (capped) `wait`.
    wait_seconds = min(wait, settings.result_wait_max_seconds)
    fetched = await asyncio.gather(
        *(
            wait_for_result(store, notifier, t, owner_uid=user.uid, wait_seconds=wait_seconds)
            for t in batch.task_ids
        )
    )
    records = [r if r is not None and r.owner_uid == user.uid else None for r in fetched]
    pending = sum(1 for record in records if record is not None and not record.is_terminal)
    if pending:
        body = BatchNotReady(
            batch_id=key,
            status="pending",
            detail=f"{pending} of {len(records)} tasks are still in progress",
        )
        return JSONResponse(
            body.model_dump(),
            status_code=404,
            headers={"Retry-After": str(settings.poll_retry_after_seconds)},
        )

    async def answer(task_id: str, record: TaskRecord | None) -> TaskResult | TaskNotReady:
        if record is None:
            return TaskNotReady(task_id=task_id, status="not_found", detail="deleted or expired")
        return await owner_result(record, catalog, photos)

    results = await asyncio.gather(
        *(answer(t, r) for t, r in zip(batch.task_ids, records, strict=True))
    )
    return BatchResults(batch_id=key, results=list(results))

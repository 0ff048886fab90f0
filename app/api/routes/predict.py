"""POST /predict: accept a photo, queue it, answer at once with a task id."""

import contextlib
import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Request, Response, status
from google.protobuf.timestamp_pb2 import Timestamp

from app.api.deps import IdempotencyDep, PublisherDep, SettingsDep, StoreDep, UploadingUser
from app.api.openapi import error_responses
from app.api.schemas import TaskAccepted
from app.broker import BrokerUnavailableError, QueueFullError
from app.errors import RETRY_LATER, APIError
from app.idempotency import IdempotencyKeyReusedError, IdempotencyUnavailableError, fingerprint
from app.result_store import ResultStoreUnavailableError
from app.upload_form import OPENAPI_BODY, read_upload
from app.uploads import inspect_image
from config.structured_logging import task_fields
from contracts.results import TaskRecord, TaskStatus, utc_now
from contracts.task_pb2 import TaskMessage

logger = structlog.stdlib.get_logger(__name__)

router = APIRouter(tags=["predictions"])

_ERRORS = error_responses(
    {
        401: "Missing or invalid Firebase ID token (or App Check token, when required).",
        413: "Body, file, form field or image dimensions over the limit.",
        415: "Not a JPEG, PNG, WebP or HEIC/HEIF image.",
        422: "Empty or corrupt image, no `image` file part, malformed form, or an "
        "`Idempotency-Key` already used with a different photo.",
        429: "Too many uploads by this user; retry after `Retry-After` seconds.",
        503: "Broker, result store or token verification unavailable, or the task queue is "
        "full (`queue_full`); retry after `Retry-After` seconds.",
    }
)

_IDEMPOTENCY_KEY = Header(
    alias="Idempotency-Key",
    min_length=1,
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="Any unique string per photo (e.g. a UUID). Retrying with the same key and the "
    "same photo returns the first task instead of queueing another.",
)


@router.post(
    "/predict",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TaskAccepted,
    responses={
        202: {
            "description": "Queued; poll `result_url` (also in the `Location` header).",
            "links": {
                "GetResult": {
                    "operationId": "getResult",
                    "parameters": {"task_id": "$response.body#/task_id"},
                }
            },
        },
        **_ERRORS,
    },
    operation_id="createPrediction",
    summary="Upload a photo for classification",
    openapi_extra={"requestBody": OPENAPI_BODY},
)
async def create_prediction(
    request: Request,
    response: Response,
    user: UploadingUser,
    settings: SettingsDep,
    publisher: PublisherDep,
    store: StoreDep,
    idempotency: IdempotencyDep,
    idempotency_key: Annotated[str | None, _IDEMPOTENCY_KEY] = None,
) -> TaskAccepted:
    # Read only now: authentication and the rate limit have passed.
    upload = await read_upload(
        request,
        max_bytes=settings.max_upload_bytes,
        max_field_bytes=settings.max_form_field_bytes,
    )
    data = upload.image
    info = inspect_image(data, max_pixels=settings.max_image_pixels)

    task_id = str(uuid.uuid4())
    # Every later line of this request carries the task id and the user's pseudonym.
    structlog.contextvars.bind_contextvars(**task_fields(task_id, user.uid))
    submitted_at = utc_now()
    pending = TaskRecord(
        task_id=task_id, owner_uid=user.uid, status=TaskStatus.PENDING, submitted_at=submitted_at
    )
    try:
        # Before the idempotency claim: a bound key's task must always have a record.
        await store.add_pending(pending)
    except ResultStoreUnavailableError as exc:
        raise APIError(
            503, "result_store_unavailable", "cannot record the task now", RETRY_LATER
        ) from exc

    if idempotency_key is not None:
        try:
            claim = await idempotency.claim(
                owner_uid=user.uid,
                client_key=idempotency_key,
                payload_fingerprint=fingerprint(data),
                task_id=task_id,
            )
        except (IdempotencyKeyReusedError, IdempotencyUnavailableError) as exc:
            with contextlib.suppress(ResultStoreUnavailableError):
                await store.discard(task_id)
            if isinstance(exc, IdempotencyKeyReusedError):
                raise APIError(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different photo",
                ) from exc
            raise APIError(
                503, "result_store_unavailable", "cannot record the task now", RETRY_LATER
            ) from exc
        if claim.replayed:
            with contextlib.suppress(ResultStoreUnavailableError):
                await store.discard(task_id)
            return _accepted(request, response, claim.task_id, replayed=True)

    timestamp = Timestamp()
    timestamp.FromDatetime(submitted_at)
    message = TaskMessage(
        task_id=task_id,
        owner_uid=user.uid,
        image=data,
        content_type=info.content_type,
        submitted_at=timestamp,
        fcm_token=upload.fcm_token,
    )
    try:
        await publisher.publish(message.SerializeToString(), task_id=task_id)
    except BrokerUnavailableError as exc:
        # If Redis is down too, the pending marker and the key binding simply expire.
        logger.warning("task not queued", reason=str(exc))
        with contextlib.suppress(ResultStoreUnavailableError):
            await store.discard(task_id)
        if idempotency_key is not None:
            with contextlib.suppress(IdempotencyUnavailableError):
                await idempotency.release(owner_uid=user.uid, client_key=idempotency_key)
        if isinstance(exc, QueueFullError):
            raise APIError(
                503, "queue_full", "the task queue is full; retry later", RETRY_LATER
            ) from exc
        # The broker's own message may name internal hosts: it goes to the log only.
        raise APIError(
            503, "broker_unavailable", "the task queue is unavailable; retry later", RETRY_LATER
        ) from exc
    logger.info(
        "task queued",
        bytes=len(data),
        content_type=info.content_type,
        push=bool(upload.fcm_token),
    )
    return _accepted(request, response, task_id, replayed=False)


def _accepted(
    request: Request, response: Response, task_id: str, *, replayed: bool
) -> TaskAccepted:
    result_url = str(request.url_for("get_result", task_id=task_id).path)
    response.headers["Location"] = result_url
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return TaskAccepted(task_id=task_id, result_url=result_url)

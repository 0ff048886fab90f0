"""POST /predict: accept a photo, queue it, answer at once with a task id."""

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, Response, UploadFile, status
from google.protobuf.timestamp_pb2 import Timestamp

from app.api.deps import CurrentUser, PublisherDep, SettingsDep, StoreDep
from app.api.schemas import ErrorBody, TaskAccepted
from app.broker import BrokerUnavailableError, QueueFullError
from app.errors import RETRY_LATER, APIError
from app.result_store import ResultStoreUnavailableError
from app.uploads import inspect_image
from contracts.results import TaskRecord, TaskStatus, utc_now
from contracts.task_pb2 import TaskMessage

router = APIRouter(tags=["predictions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid Firebase ID token."},
    413: {"model": ErrorBody, "description": "File or image dimensions over the limit."},
    415: {"model": ErrorBody, "description": "Not a JPEG, PNG or WebP image."},
    422: {"model": ErrorBody, "description": "Empty, corrupt or missing `image` field."},
    503: {
        "model": ErrorBody,
        "description": "Broker or result store unavailable, or the queue is full "
        "(`queue_full`); retry after `Retry-After` seconds.",
    },
}


@router.post(
    "/predict",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TaskAccepted,
    responses=_ERRORS,
    operation_id="createPrediction",
    summary="Upload a photo for classification",
)
async def create_prediction(
    request: Request,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    publisher: PublisherDep,
    store: StoreDep,
    image: Annotated[UploadFile, File(description="The photo: JPEG, PNG or WebP.")],
) -> TaskAccepted:
    data = await image.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise APIError(
            413, "payload_too_large", f"the image exceeds {settings.max_upload_bytes} bytes"
        )
    info = inspect_image(data, max_pixels=settings.max_image_pixels)

    task_id = str(uuid.uuid4())
    submitted_at = utc_now()
    pending = TaskRecord(
        task_id=task_id, owner_uid=user.uid, status=TaskStatus.PENDING, submitted_at=submitted_at
    )
    timestamp = Timestamp()
    timestamp.FromDatetime(submitted_at)
    message = TaskMessage(
        task_id=task_id,
        owner_uid=user.uid,
        image=data,
        content_type=info.content_type,
        submitted_at=timestamp,
    )
    try:
        await store.add_pending(pending)
    except ResultStoreUnavailableError as exc:
        raise APIError(
            503, "result_store_unavailable", "cannot record the task now", RETRY_LATER
        ) from exc
    try:
        await publisher.publish(message.SerializeToString(), task_id=task_id)
    except BrokerUnavailableError as exc:
        # If Redis is down too, the pending marker simply expires.
        with contextlib.suppress(ResultStoreUnavailableError):
            await store.discard(task_id)
        code = "queue_full" if isinstance(exc, QueueFullError) else "broker_unavailable"
        raise APIError(503, code, str(exc), RETRY_LATER) from exc

    result_url = str(request.url_for("get_result", task_id=task_id).path)
    response.headers["Location"] = result_url
    return TaskAccepted(task_id=task_id, result_url=result_url)

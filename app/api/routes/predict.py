"""POST /predict: accept a photo, queue it, answer at once with a task id."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from app.api.deps import ModelsDep, SettingsDep, SubmitterDep, UploadingUser
from app.api.openapi import error_responses
from app.api.routes.results import result_path
from app.api.schemas import TaskAccepted
from app.tasks.image_check import inspect_image
from app.tasks.submit import Photo
from app.tasks.upload_form import OPENAPI_BODY, read_upload

router = APIRouter(tags=["predictions"])

_ERRORS = error_responses(
    {
        401: "Missing or invalid Firebase ID token (or App Check token, when required).",
        413: "Body, file, form field or image dimensions over the limit.",
        415: "Not a JPEG, PNG, WebP or HEIC/HEIF image.",
        422: "Empty or corrupt image, no `image` file part, malformed form, a `model` the "
        "server does not serve (`unknown_model`), or an `Idempotency-Key` already used with a "
        "different photo or model.",
        429: "Too many uploads by this user; retry after `Retry-After` seconds.",
        503: "Broker, result store or token verification unavailable, the task queue is "
        "full (`queue_full`), or the default model unavailable; retry after `Retry-After` "
        "seconds.",
    },
    {
        422: (
            "unknown_model",
            "no model named 'resnet-9000'; choose one of efficientnet-lite0, efficientnet-lite2",
        )
    },
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
    submitter: SubmitterDep,
    models: ModelsDep,
    idempotency_key: Annotated[str | None, _IDEMPOTENCY_KEY] = None,
) -> TaskAccepted:
    # Read only now: authentication and the rate limit have passed.
    upload = await read_upload(
        request,
        max_bytes=settings.max_upload_bytes,
        max_field_bytes=settings.max_form_field_bytes,
    )
    model = models.for_upload(upload.model)  # 422 unknown_model: nothing is queued
    info = inspect_image(upload.image, max_pixels=settings.max_image_pixels)
    photo = Photo(
        data=upload.image,
        content_type=info.content_type,
        fcm_token=upload.fcm_token,
        model=model.name,
    )
    submission = await submitter.submit(photo, owner_uid=user.uid, idempotency_key=idempotency_key)
    result_url = result_path(request, submission.task_id)
    response.headers["Location"] = result_url
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return TaskAccepted(task_id=submission.task_id, result_url=result_url)

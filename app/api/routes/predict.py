"""POST /predict: accept a photo, queue it, answer at once with a task id."""

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.api.deps import (
    CatalogDep,
    ModelsDep,
    NotifierDep,
    PhotosDep,
    SettingsDep,
    StoreDep,
    SubmitterDep,
    UploadingUser,
    UploadsDep,
)
from app.api.openapi import error_responses
from app.api.params import IdempotencyKeyHeader, SyncWait
from app.api.routes.results import owner_result, result_path
from app.api.schemas import TaskAccepted, TaskResult
from app.core.errors import APIError
from app.storage.uploads import DirectUploadRequest
from app.tasks.photos import checked_photo
from app.tasks.upload_form import OPENAPI_BODY, read_upload
from app.tasks.waiter import wait_for_result

router = APIRouter(tags=["predictions"])

_ERRORS = error_responses(
    {
        401: "Missing or invalid Firebase ID token (or App Check token, when required).",
        404: "`upload_not_found`: the `upload_id` is unknown, expired or another user's.",
        413: "Body, file, form field or image dimensions over the limit; or a direct upload "
        "larger than declared or allowed (the object is deleted).",
        415: "Not a JPEG, PNG, WebP or HEIC/HEIF image (a direct upload's object is deleted).",
        422: "Empty or corrupt image, neither `image` nor `upload_id` (or both: "
        "`image_and_upload_id`), nothing PUT yet for the `upload_id` (`upload_incomplete`), "
        "malformed form, a `model` the server does not serve (`unknown_model`), or an "
        "`Idempotency-Key` already used with a different photo or model.",
        429: "Too many uploads by this user; retry after `Retry-After` seconds.",
        503: "Broker, result store, photo store (`object_store_unavailable`) or token "
        "verification unavailable, the task queue is full (`queue_full`), or the default model "
        "unavailable; retry after `Retry-After` seconds.",
    },
    {
        422: (
            "unknown_model",
            "no model named 'resnet-9000'; choose one of efficientnet-lite0, efficientnet-lite2",
        )
    },
)

_ANSWER_HEADERS = ("Location", "Idempotent-Replayed")


@router.post(
    "/predict",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TaskAccepted,
    responses={
        200: {
            "model": TaskResult,
            "description": "With `wait`: the task finished in time; the same body as "
            "`GET /result/{task_id}`, products and image links included.",
        },
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
    store: StoreDep,
    catalog: CatalogDep,
    notifier: NotifierDep,
    photos: PhotosDep,
    uploads: UploadsDep,
    wait: SyncWait = 0.0,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskAccepted | JSONResponse:
    wait_seconds = checked_wait(wait, settings.result_wait_max_seconds)
    # Read only now: authentication and the rate limit have passed.
    upload = await read_upload(
        request,
        max_bytes=settings.max_upload_bytes,
        max_field_bytes=settings.max_form_field_bytes,
    )
    model = models.for_upload(upload.model)  # 422 unknown_model: nothing is queued
    if upload.upload_id is not None:  # the photo is in the store already
        direct = DirectUploadRequest(upload.upload_id, model=model.name, fcm_token=upload.fcm_token)
        submission = await uploads.submit(
            direct, owner_uid=user.uid, idempotency_key=idempotency_key
        )
    else:
        photo = checked_photo(
            upload.image,
            max_pixels=settings.max_image_pixels,
            model=model.name,
            fcm_token=upload.fcm_token,
        )
        submission = await submitter.submit(
            photo, owner_uid=user.uid, idempotency_key=idempotency_key
        )
    result_url = result_path(request, submission.task_id)
    response.headers["Location"] = result_url
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    if wait_seconds > 0:
        record = await wait_for_result(
            store, notifier, submission.task_id, owner_uid=user.uid, wait_seconds=wait_seconds
        )
        if record is not None and record.owner_uid == user.uid and record.is_terminal:
            result = await owner_result(record, catalog, photos)
            return JSONResponse(
                result.model_dump(mode="json"),
                status_code=200,
                headers={k: response.headers[k] for k in _ANSWER_HEADERS if k in response.headers},
            )
    return TaskAccepted(task_id=submission.task_id, result_url=result_url)


def checked_wait(wait: float, cap: float) -> float:
    """``wait`` if within the server's cap; a 422 otherwise (an upload is not retried
    silently shorter than asked, unlike a poll)."""
    if wait > cap:
        raise APIError(
            422,
            "validation_error",
            f"wait: at most {cap:g} seconds (the server's cap)",
            extra={"errors": [{"field": "wait", "message": f"at most {cap:g}", "type": "cap"}]},
        )
    return wait

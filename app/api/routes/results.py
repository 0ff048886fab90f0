"""GET /result/{task_id}: the terminal result, or 404 pending / not_found."""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.api.deps import (
    CatalogDep,
    EraserDep,
    NotifierDep,
    PhotosDep,
    PollingUser,
    SettingsDep,
    StoreDep,
)
from app.api.openapi import error_responses
from app.api.params import LongPollWait
from app.api.schemas import TaskNotReady, TaskResult
from app.catalog.matching import products_for
from app.catalog.service import Catalog
from app.core.errors import APIError
from app.storage.photos import PhotoStore
from app.tasks.waiter import wait_for_result
from contracts.results import TaskRecord, TaskStatus

router = APIRouter(tags=["predictions"])
RESULT_PATH = "/result/{task_id}"


async def owner_result(record: TaskRecord, catalog: Catalog, photos: PhotoStore) -> TaskResult:
    """The body of a terminal result for its owner, as every route answers it: the record,
    its products and presigned links to its images."""
    return TaskResult.from_record(
        record, await products_for(record, catalog), photos.result_images(record.images)
    )


def result_path(request: Request, task_id: str) -> str:
    """What ``request.url_for("get_result", task_id=...).path`` gives, without searching the
    app's routes by name (a third of an upload's own CPU in a profile)."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + RESULT_PATH.format(task_id=task_id)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(
        {
            401: "Missing or invalid Firebase ID token (or App Check token, when required).",
            422: "The task id is not a UUID.",
            429: "Too many polls by this user; retry after `Retry-After` seconds.",
            503: "Result store or token verification unavailable; retry later.",
        }
    ),
    404: {
        "model": TaskNotReady,
        "description": "`pending` (with Retry-After) while queued or running; `not_found` "
        "for unknown, expired or someone else's tasks.",
        "content": {
            "application/json": {
                "example": {
                    "task_id": "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11",
                    "status": "pending",
                    "detail": "the task is still in progress",
                }
            }
        },
    },
}


@router.get(
    RESULT_PATH,
    response_model=TaskResult,
    responses=_RESPONSES,
    operation_id="getResult",
    summary="Poll for a task's result",
)
async def get_result(
    task_id: uuid.UUID,
    user: PollingUser,
    settings: SettingsDep,
    store: StoreDep,
    catalog: CatalogDep,
    notifier: NotifierDep,
    photos: PhotosDep,
    wait: LongPollWait = 0.0,
) -> TaskResult | JSONResponse:
    key = str(task_id)
    record = await wait_for_result(
        store,
        notifier,
        key,
        owner_uid=user.uid,
        wait_seconds=min(wait, settings.result_wait_max_seconds),
    )
    # Someone else's task is indistinguishable from one that never existed.
    if record is None or record.owner_uid != user.uid:
        body = TaskNotReady(
            task_id=key, status="not_found", detail="no such task, or its result has expired"
        )
        return JSONResponse(body.model_dump(), status_code=404)
    if record.status is TaskStatus.PENDING:
        body = TaskNotReady(task_id=key, status="pending", detail="the task is still in progress")
        return JSONResponse(
            body.model_dump(),
            status_code=404,
            headers={"Retry-After": str(settings.poll_retry_after_seconds)},
        )
    return await owner_result(record, catalog, photos)


_DELETE_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {
        "description": "Deleted: the result, its pending marker, its history row and its images."
    },
    **error_responses(
        {
            401: "Missing or invalid Firebase ID token (or App Check token, when required).",
            404: "No such task of yours (unknown, already deleted, or someone else's).",
            422: "The task id is not a UUID.",
            429: "Too many requests by this user; retry after `Retry-After` seconds.",
            503: "Result store or database unavailable; retry (deleting twice is harmless).",
        },
        {404: ("not_found", "no such task")},
    ),
}


@router.delete(
    RESULT_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_DELETE_RESPONSES,
    operation_id="deleteResult",
    summary="Cancel a queued task or delete a finished one",
)
async def delete_result(task_id: uuid.UUID, user: PollingUser, eraser: EraserDep) -> Response:
    """A task still queued is never run (the worker skips it, no result is stored); a
    finished one is deleted at once, with its history row and its images. Afterwards `GET`
    answers 404."""
    if not await eraser.erase_task(str(task_id), owner_uid=user.uid):
        raise APIError(404, "not_found", "no such task")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

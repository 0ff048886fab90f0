"""GET /result/{task_id}: the terminal result, or 404 pending / not_found."""

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import CatalogDep, CurrentUser, SettingsDep, StoreDep
from app.api.matches import result_with_products
from app.api.schemas import ErrorBody, TaskNotReady, TaskResult
from app.errors import RETRY_LATER, APIError
from app.result_store import ResultStoreUnavailableError
from contracts.results import TaskStatus

router = APIRouter(tags=["predictions"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid Firebase ID token."},
    404: {
        "model": TaskNotReady,
        "description": "`pending` (with Retry-After) while queued or running; `not_found` "
        "for unknown, expired or someone else's tasks.",
    },
    422: {"model": ErrorBody, "description": "The task id is not a UUID."},
    503: {"model": ErrorBody, "description": "Result store unavailable; retry later."},
}


@router.get(
    "/result/{task_id}",
    response_model=TaskResult,
    responses=_RESPONSES,
    operation_id="getResult",
    summary="Poll for a task's result",
)
async def get_result(
    task_id: uuid.UUID,
    user: CurrentUser,
    settings: SettingsDep,
    store: StoreDep,
    catalog: CatalogDep,
) -> TaskResult | JSONResponse:
    key = str(task_id)
    try:
        record = await store.get(key)
    except ResultStoreUnavailableError as exc:
        raise APIError(
            503, "result_store_unavailable", "cannot read results now", RETRY_LATER
        ) from exc
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
    return await result_with_products(record, catalog)

"""GET /tasks, GET /tasks/{task_id}, DELETE /tasks: each user's own task history."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.deps import EraserDep, HistoryDep, PollingUser
from app.api.openapi import error_responses
from app.api.schemas import TaskHistoryItem, TaskHistoryPage
from app.core.errors import APIError
from app.history.cursor import InvalidCursorError

router = APIRouter(tags=["history"])

_COMMON = {
    401: "Missing or invalid Firebase ID token (or App Check token, when required).",
    429: "Too many requests by this user; retry after `Retry-After` seconds.",
    503: "The database (MariaDB) or the result store is unavailable; retry later.",
}


@router.get(
    "/tasks",
    response_model=TaskHistoryPage,
    responses=error_responses(
        {**_COMMON, 422: "A malformed `cursor`, or `limit` outside 1-100."},
        {422: ("invalid_cursor", "the cursor is malformed; use next_cursor as given")},
    ),
    operation_id="listTasks",
    summary="The caller's tasks, newest first",
)
async def list_tasks(
    user: PollingUser,
    history: HistoryDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page (opaque)."),
    ] = None,
) -> TaskHistoryPage:
    try:
        rows, next_cursor = await history.page(user.uid, limit=limit, cursor=cursor)
    except InvalidCursorError as exc:
        raise APIError(422, "invalid_cursor", str(exc)) from exc
    return TaskHistoryPage(
        items=[TaskHistoryItem.from_row(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/tasks/{task_id}",
    response_model=TaskHistoryItem,
    responses=error_responses(
        {
            **_COMMON,
            404: "No such task in the caller's history (unknown, purged, deleted, "
            "someone else's, or history turned off).",
            422: "The task id is not a UUID.",
        }
    ),
    operation_id="getTask",
    summary="One task of the caller's history, also after its result expired",
)
async def get_task(task_id: uuid.UUID, user: PollingUser, history: HistoryDep) -> TaskHistoryItem:
    row = await history.get(user.uid, str(task_id))
    if row is None:
        raise APIError(404, "not_found", "no such task in your history")
    return TaskHistoryItem.from_row(row)


_DELETE_ALL: dict[int | str, dict[str, Any]] = {
    204: {"description": "Every task of the caller deleted: results, queued work, history."},
    **error_responses(_COMMON),
}


@router.delete(
    "/tasks",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_DELETE_ALL,
    operation_id="deleteAllTasks",
    summary='Delete all of the caller\'s tasks ("delete my data")',
)
async def delete_all_tasks(user: PollingUser, eraser: EraserDep) -> Response:
    """Queued tasks are cancelled; results, history rows and photos (originals and processed
    images) deleted. Repeating it is harmless."""
    await eraser.erase_all(owner_uid=user.uid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

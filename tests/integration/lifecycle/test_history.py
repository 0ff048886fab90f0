"""GET /tasks, GET /tasks/{id}, DELETE /tasks: a history in MariaDB that outlives the result."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis

from app.catalog.database import connect
from app.catalog.seed import SeedCatalog
from app.history import queries
from contracts.redis_keys import events_key
from contracts.results import TaskRecord, TaskStatus
from tests.support.catalog import catalog_ready, settings_for
from tests.support.client import auth, poll, upload
from tests.support.stacks import custom_stack
from tools.devstack import REDIS_URL, TEST_DB, Stack, delete_queue, wait_until
from tools.devstack.emulator import SignedInUser


def _get(stack: Stack, user: SignedInUser, path: str, **params: str) -> httpx.Response:
    return httpx.get(
        f"{stack.base_url}{path}", params=params, headers=auth(user.id_token), timeout=10
    )


def _finished(stack: Stack, user: SignedInUser, image: bytes) -> str:
    """Upload, wait for the result and for its history row to say so; the task id."""
    task_id: str = upload(stack.base_url, user.id_token, image).json()["task_id"]
    poll(stack.base_url, user.id_token, task_id)
    wait_until(
        lambda: _get(stack, user, f"/tasks/{task_id}").json().get("completed_at") is not None,
        timeout=30,
        what="the finished history row",
    )
    return task_id


def test_the_history_pages_newest_first_and_only_for_its_owner(
    catalog_stack: Stack,
    user: SignedInUser,
    other_user: SignedInUser,
    coffee_jpeg: bytes,
    cat_jpeg: bytes,
) -> None:
    ids = [_finished(catalog_stack, user, image) for image in (coffee_jpeg, cat_jpeg, coffee_jpeg)]
    first = _get(catalog_stack, user, "/tasks", limit="2")
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["task_id"] for item in page["items"]] == [ids[2], ids[1]]
    newest = page["items"][0]
    assert newest["status"] == "done"
    assert newest["model"]["name"] == "efficientnet-lite0"
    assert newest["top_prediction"]["label"] == "espresso"
    assert 0 < newest["top_prediction"]["confidence"] <= 1
    assert newest["completed_at"] >= newest["submitted_at"]
    assert page["next_cursor"]

    second = _get(catalog_stack, user, "/tasks", limit="2", cursor=page["next_cursor"]).json()
    assert [item["task_id"] for item in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None

    assert _get(catalog_stack, other_user, "/tasks").json() == {"items": [], "next_cursor": None}
    assert _get(catalog_stack, other_user, f"/tasks/{ids[0]}").status_code == 404


def test_a_malformed_cursor_or_limit_is_refused(catalog_stack: Stack, user: SignedInUser) -> None:
    for params in ({"cursor": "not a cursor"}, {"cursor": "eyJ0IjogMX0"}, {"limit": "0"}):
        response = _get(catalog_stack, user, "/tasks", **params)
        assert response.status_code == 422, response.text
        assert response.json()["error"] in ("invalid_cursor", "validation_error")
        assert response.json()["detail"]


def test_delete_my_data_erases_every_result_and_row(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    ids = [_finished(catalog_stack, user, image) for image in (coffee_jpeg, cat_jpeg)]
    response = httpx.delete(f"{catalog_stack.base_url}/tasks", headers=auth(user.id_token))
    assert response.status_code == 204, response.text
    assert _get(catalog_stack, user, "/tasks").json()["items"] == []
    for task_id in ids:
        assert _get(catalog_stack, user, f"/result/{task_id}").json()["status"] == "not_found"
        assert _get(catalog_stack, user, f"/tasks/{task_id}").status_code == 404


def test_the_record_outlives_the_expired_result(
    built_model: Path, tmp_path: Path, user: SignedInUser, cat_jpeg: bytes
) -> None:
    with custom_stack(tmp_path, SNAPMATCH_RESULT_TTL_SECONDS="1") as stack:
        wait_until(lambda: catalog_ready(stack.base_url), timeout=60, what="the catalog")
        stack.start_worker()
        task_id = _finished(stack, user, cat_jpeg)
        wait_until(
            lambda: _get(stack, user, f"/result/{task_id}").status_code == 404,
            timeout=30,
            what="the result to expire",
        )
        record = _get(stack, user, f"/tasks/{task_id}")
        assert record.status_code == 200, record.text
        assert record.json()["status"] == "done"
        assert record.json()["top_prediction"]["label"].endswith("cat")


def _old_row(owner_uid: str, days: int) -> str:
    task_id = str(uuid.uuid4())
    submitted = datetime.now(UTC) - timedelta(days=days)
    record = TaskRecord(
        task_id=task_id,
        owner_uid=owner_uid,
        status=TaskStatus.FAILED,
        submitted_at=submitted,
        completed_at=submitted,
    )
    connection = connect(settings_for())
    try:
        queries.upsert_finished(connection, record)
    finally:
        connection.close()
    return task_id


def test_rows_past_retention_are_purged_on_schedule(
    built_model: Path, seeded_catalog: SeedCatalog, tmp_path: Path, user: SignedInUser
) -> None:
    old, recent = _old_row(user.uid, days=3), _old_row(user.uid, days=1)
    env = {
        "SNAPMATCH_HISTORY_RETENTION_DAYS": "2",
        "SNAPMATCH_HISTORY_PURGE_INTERVAL_SECONDS": "0.5",
    }
    with custom_stack(tmp_path, **env) as stack:

        def purged() -> bool:
            connection = connect(settings_for())
            try:
                return queries.owner_task_ids(connection, user.uid) == [recent]
            finally:
                connection.close()

        wait_until(purged, timeout=30, what="the purge of the old row")
        items = _get(stack, user, "/tasks").json()["items"]
        assert [item["task_id"] for item in items] == [recent]
        assert _get(stack, user, f"/tasks/{old}").status_code == 404


def test_retention_zero_keeps_no_history(
    built_model: Path, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    with custom_stack(tmp_path, SNAPMATCH_HISTORY_RETENTION_DAYS="0") as stack:
        stack.start_worker()
        task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        assert poll(stack.base_url, user.id_token, task_id)["status"] == "done"
        assert _get(stack, user, "/tasks").json() == {"items": [], "next_cursor": None}
        assert _get(stack, user, f"/tasks/{task_id}").status_code == 404
        # Deleting still works on the result itself.
        deleted = httpx.delete(f"{stack.base_url}/result/{task_id}", headers=auth(user.id_token))
        assert deleted.status_code == 204
    connection = connect(settings_for())
    try:
        assert queries.owner_task_ids(connection, user.uid) == []
    finally:
        connection.close()


def test_the_event_stream_keeps_only_what_is_not_handled_yet(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    for _ in range(3):
        _finished(catalog_stack, user, coffee_jpeg)
    stream = redis.Redis.from_url(REDIS_URL)
    wait_until(
        lambda: int(stream.xlen(events_key(catalog_stack.queue))) <= 1,  # type: ignore[arg-type]
        timeout=30,
        what="the handled events to be trimmed",
    )


def test_a_result_finished_while_the_database_is_away_reaches_the_history_later(
    built_model: Path, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    name = f"{TEST_DB}_{uuid.uuid4().hex[:8]}"  # does not exist yet: MariaDB is "away" for it
    url = f"mariadb://snapmatch:snapmatch@127.0.0.1:3306/{name}"
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={"SNAPMATCH_DATABASE_URL": url},
    )
    admin = connect(settings_for(), database="")
    try:
        stack.start_gateway(probe="/health")
        stack.start_worker()
        task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        assert poll(stack.base_url, user.id_token, task_id)["status"] == "done"
        away = _get(stack, user, "/tasks")
        assert away.status_code == 503, away.text
        assert away.json()["error"] == "catalog_unavailable"

        admin.cursor().execute(f"CREATE DATABASE `{name}`")
        wait_until(
            lambda: _get(stack, user, f"/tasks/{task_id}").status_code == 200,
            timeout=90,
            what="the held event to reach the history",
        )
        item = _get(stack, user, f"/tasks/{task_id}").json()
        assert item["status"] == "done"
        assert item["top_prediction"]["label"] == "espresso"
    finally:
        stack.stop()
        delete_queue(stack.queue)
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()

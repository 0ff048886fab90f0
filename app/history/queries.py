"""SQL of the task history, one function per statement, each taking a connection.

Times are stored as naive UTC ``DATETIME(6)`` and come back as aware UTC datetimes.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import mariadb

from app.history.cursor import Position
from contracts.results import TaskRecord

_COLUMNS = (
    "task_id, status, submitted_at, completed_at, model_name, model_version, "
    "top_class_id, top_label, top_confidence, error_code"
)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    task_id: str
    status: str
    submitted_at: datetime
    completed_at: datetime | None
    model_name: str | None
    model_version: str | None
    top_class_id: int | None
    top_label: str | None
    top_confidence: float | None
    error_code: str | None


def _naive_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _row(values: tuple[object, ...]) -> HistoryRow:
    (task_id, status, submitted, completed, name, version, class_id, label, conf, error) = values
    assert isinstance(submitted, datetime)
    return HistoryRow(
        task_id=str(task_id),
        status=str(status),
        submitted_at=submitted.replace(tzinfo=UTC),
        completed_at=_aware(completed) if isinstance(completed, datetime) else None,
        model_name=None if name is None else str(name),
        model_version=None if version is None else str(version),
        top_class_id=None if class_id is None else int(str(class_id)),
        top_label=None if label is None else str(label),
        top_confidence=None if conf is None else float(str(conf)),
        error_code=None if error is None else str(error),
    )


def insert_submitted(
    connection: mariadb.Connection, record: TaskRecord, *, model_name: str | None
) -> None:
    """The row of a task just queued; a row the finished task already wrote is kept."""
    cursor = connection.cursor()
    try:
        cursor.execute(
            "INSERT IGNORE INTO task_history (task_id, owner_uid, status, submitted_at, "
            "model_name) VALUES (?, ?, ?, ?, ?)",
            (
                record.task_id,
                record.owner_uid,
                record.status.value,
                _naive_utc(record.submitted_at),
                model_name,
            ),
        )
    finally:
        cursor.close()


def upsert_finished(connection: mariadb.Connection, record: TaskRecord) -> None:
    """The terminal state of a task, whether or not its submitted row was written."""
    top = record.predictions[0] if record.predictions else None
    values = (
        record.task_id,
        record.owner_uid,
        record.status.value,
        _naive_utc(record.submitted_at),
        _naive_utc(record.completed_at),
        record.model.name if record.model else None,
        record.model.version if record.model else None,
        top.class_id if top else None,
        top.label if top else None,
        top.confidence if top else None,
        record.error.code.value if record.error else None,
    )
    cursor = connection.cursor()
    try:
        cursor.execute(
            "INSERT INTO task_history (task_id, owner_uid, status, submitted_at, completed_at, "
            "model_name, model_version, top_class_id, top_label, top_confidence, error_code) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
            "status = VALUES(status), completed_at = VALUES(completed_at), "
            "model_name = COALESCE(VALUES(model_name), model_name), "
            "model_version = VALUES(model_version), top_class_id = VALUES(top_class_id), "
            "top_label = VALUES(top_label), top_confidence = VALUES(top_confidence), "
            "error_code = VALUES(error_code)",
            values,
        )
    finally:
        cursor.close()


def list_page(
    connection: mariadb.Connection,
    owner_uid: str,
    *,
    limit: int,
    after: Position | None,
    not_before: datetime,
) -> list[HistoryRow]:
    """Up to ``limit`` of the owner's rows, newest first, older than ``after``."""
    sql = f"SELECT {_COLUMNS} FROM task_history WHERE owner_uid = ? AND submitted_at >= ?"  # noqa: S608
    params: list[object] = [owner_uid, _naive_utc(not_before)]
    if after is not None:
        sql += " AND (submitted_at < ? OR (submitted_at = ? AND task_id < ?))"
        moment = _naive_utc(after.submitted_at)
        params += [moment, moment, after.task_id]
    sql += " ORDER BY submitted_at DESC, task_id DESC LIMIT ?"
    params.append(limit)
    cursor = connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return [_row(values) for values in cursor.fetchall()]
    finally:
        cursor.close()


def get_row(
    connection: mariadb.Connection, owner_uid: str, task_id: str, *, not_before: datetime
) -> HistoryRow | None:
    cursor = connection.cursor()
    try:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM task_history "  # noqa: S608 - constant columns
            "WHERE task_id = ? AND owner_uid = ? AND submitted_at >= ?",
            (task_id, owner_uid, _naive_utc(not_before)),
        )
        values = cursor.fetchone()
        return None if values is None else _row(values)
    finally:
        cursor.close()


def owner_task_ids(connection: mariadb.Connection, owner_uid: str) -> list[str]:
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT task_id FROM task_history WHERE owner_uid = ?", (owner_uid,))
        return [str(task_id) for (task_id,) in cursor.fetchall()]
    finally:
        cursor.close()


def delete_rows(connection: mariadb.Connection, owner_uid: str, task_ids: list[str]) -> int:
    """Delete the owner's rows among ``task_ids``; how many there were."""
    if not task_ids:
        return 0
    marks = ", ".join("?" * len(task_ids))
    cursor = connection.cursor()
    try:
        cursor.execute(
            f"DELETE FROM task_history WHERE owner_uid = ? AND task_id IN ({marks})",  # noqa: S608
            (owner_uid, *task_ids),
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()


def purge_older_than(connection: mariadb.Connection, cutoff: datetime, *, batch: int) -> int:
    """Delete up to ``batch`` rows submitted before ``cutoff``; how many were deleted."""
    cursor = connection.cursor()
    try:
        cursor.execute(
            "DELETE FROM task_history WHERE submitted_at < ? LIMIT ?", (_naive_utc(cutoff), batch)
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()

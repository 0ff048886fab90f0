"""The queue message the gateway builds: with tracing off it carries no trace context."""

from app.tasks.submit import Photo, _message
from contracts.results import TaskRecord, TaskStatus, utc_now
from contracts.task_pb2 import TaskMessage


def test_a_message_built_while_tracing_is_off_carries_no_trace_context() -> None:
    record = TaskRecord(
        task_id="t-1", owner_uid="u-1", status=TaskStatus.PENDING, submitted_at=utc_now()
    )
    photo = Photo(b"\xff\xd8\xff", "image/jpeg")
    message = TaskMessage.FromString(_message(record, photo, inline=True))
    assert (message.task_id, message.owner_uid, message.image) == ("t-1", "u-1", b"\xff\xd8\xff")
    assert dict(message.trace_context) == {}

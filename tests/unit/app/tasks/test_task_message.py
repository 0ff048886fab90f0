"""The queue message the gateway builds: inline or claim check, and no trace context with
tracing off."""

from app.tasks.submit import Photo, _message
from contracts.object_keys import original_key
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


def test_a_claim_checked_message_carries_the_photos_key_instead_of_its_bytes() -> None:
    task_id = "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11"
    record = TaskRecord(
        task_id=task_id, owner_uid="u-1", status=TaskStatus.PENDING, submitted_at=utc_now()
    )
    photo = Photo(b"\xff\xd8\xff" * 1000, "image/jpeg")
    message = TaskMessage.FromString(_message(record, photo, inline=False))
    assert message.WhichOneof("image_source") == "image_key"
    assert message.image_key == original_key("u-1", task_id)
    assert message.image == b""
    assert message.original_stored


def test_a_message_from_before_object_storage_still_parses_with_its_inline_photo() -> None:
    """Field 3 moved into the oneof without changing number or type: bytes written by the
    old schema (a plain `bytes image = 3`) decode to the inline branch."""
    old_wire = b"\x0a\x03t-1" + b"\x12\x03u-1" + b"\x1a\x04\xff\xd8\xff\xe0"
    message = TaskMessage.FromString(old_wire)
    assert message.WhichOneof("image_source") == "image"
    assert message.image == b"\xff\xd8\xff\xe0"
    assert not message.original_stored

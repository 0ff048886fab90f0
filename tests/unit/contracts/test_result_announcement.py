"""The long-poll announcement carries the task id and the stored record; a bare id still works."""

from contracts.redis_keys import parse_announcement, result_announcement


def test_an_announcement_carries_the_id_and_the_record() -> None:
    message = result_announcement("t-1", b'{"task_id":"t-1","status":"done"}')
    assert parse_announcement(message.decode()) == ("t-1", '{"task_id":"t-1","status":"done"}')


def test_a_bare_task_id_is_an_announcement_without_a_record() -> None:
    assert parse_announcement("t-1") == ("t-1", None)

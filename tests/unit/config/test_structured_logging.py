"""JSON log lines carry the task's fields, whoever logs them; user ids appear only hashed."""

import json
import logging
import warnings
from collections.abc import Iterator

import pytest
import structlog

from config.structured_logging import bind_task, configure_logging, hash_uid


@pytest.fixture
def json_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_stdlib_and_structlog_lines_are_json_with_the_bound_task(
    json_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", process="worker")
    with bind_task("t-42", owner_uid="firebase-uid-of-alice"):
        logging.getLogger("worker.processor").info("task %s %s", "t-42", "done")
        structlog.stdlib.get_logger("worker.push").info("push sent", outcome="ok")
    logging.getLogger("worker").info("outside any task")

    first, second, third = _lines(capsys.readouterr().err)
    assert first["event"] == "task t-42 done"
    assert first["level"] == "info" and first["logger"] == "worker.processor"
    assert first["process"] == "worker"
    for line in (first, second):
        assert line["task_id"] == "t-42"
        assert line["user"] == hash_uid("firebase-uid-of-alice")
    assert second["outcome"] == "ok"
    assert "task_id" not in third and "timestamp" in third


def test_a_uid_is_hashed_stably_and_not_reversibly_shown() -> None:
    assert hash_uid("alice") == hash_uid("alice")
    assert hash_uid("alice") != hash_uid("bob")
    assert len(hash_uid("alice")) == 16 and "alice" not in hash_uid("alice")


def test_a_python_warning_is_a_json_line_too(
    json_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", process="gateway")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(
            "coroutine 'Connection.close' was never awaited", RuntimeWarning, stacklevel=1
        )
    (line,) = _lines(capsys.readouterr().err)
    assert line["logger"] == "py.warnings" and line["level"] == "warning"
    assert "never awaited" in str(line["event"]) and line["process"] == "gateway"

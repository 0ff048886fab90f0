"""JSON logs for the gateway and the worker: one line per event, machine-readable.

structlog renders every record, including those of ``logging.getLogger(...)`` callers and of
libraries (uvicorn, pika, aio-pika), so a log shipper sees one format. Values bound with
``bind_task`` (the task id, the hashed user) travel in context variables and land on every
line logged while a task is handled, in whichever process handles it.

User ids are never logged in clear: ``hash_uid`` gives a stable pseudonym that still lets an
operator follow one user's tasks across both processes.
"""

import hashlib
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import structlog
from structlog.typing import Processor

__all__ = ["bind_task", "configure_logging", "hash_uid", "task_fields"]


def hash_uid(uid: str) -> str:
    """A pseudonym for a Firebase uid: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(uid.encode()).hexdigest()[:16]


def task_fields(task_id: str, owner_uid: str | None = None) -> dict[str, str]:
    """The log fields that identify a task: its id and its owner's pseudonym."""
    fields = {"task_id": task_id}
    if owner_uid:
        fields["user"] = hash_uid(owner_uid)
    return fields


@contextmanager
def bind_task(task_id: str, *, owner_uid: str | None = None) -> Iterator[None]:
    """Attach the task's fields to every line logged inside the block (any logger)."""
    with structlog.contextvars.bound_contextvars(**task_fields(task_id, owner_uid)):
        yield


def configure_logging(level: str, *, process: str, processors: Sequence[Processor] = ()) -> None:
    """Route stdlib logging through structlog's JSON renderer, tagging lines with ``process``
    (and whatever the extra ``processors`` add, such as the gateway's request id)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        *processors,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_process(process),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Python warnings (a library's RuntimeWarning, say from an object collected unclosed
    # after a failed connection attempt) become JSON lines of `py.warnings` too, instead of
    # plain text on stderr.
    logging.captureWarnings(True)
    # Let uvicorn's loggers reach the root handler instead of their own plain-text ones.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


def _add_process(process: str) -> Processor:
    def add(_: object, __: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
        event.setdefault("process", process)
        return event

    return add

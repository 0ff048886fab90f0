"""How the task queue and its dead-letter side are declared. Both processes declare them;
RabbitMQ closes the channel (406 PRECONDITION_FAILED) when two declarations disagree, so the
names and arguments live here once.

Topology for a task queue ``Q`` (``tasks`` by default)::

    Q --(delivery limit exceeded, or rejected)--> exchange Q.dead (fanout)
                                                   |-> queue Q.dead          kept for operators
                                                   '-> queue Q.dead.results  read by workers, which
                                                       store a terminal ``failed`` result
"""

from typing import Any

TASK_CONTENT_TYPE = "application/x-protobuf"
TASK_MESSAGE_TYPE = "snapmatch.v1.TaskMessage"

# The operators' dead-letter queue keeps the newest messages only, so it cannot fill a disk.
DEAD_LETTER_MAX_LENGTH = 10_000


def dead_letter_exchange(queue: str) -> str:
    """Fanout exchange the task queue dead-letters into."""
    return f"{queue}.dead"


def dead_letter_queue(queue: str) -> str:
    """Where dead-lettered tasks wait for an operator (nothing in snapmatch consumes it)."""
    return f"{queue}.dead"


def dead_letter_results_queue(queue: str) -> str:
    """A second copy of each dead letter, consumed by workers to record the task as failed."""
    return f"{queue}.dead.results"


def task_queue_arguments(
    queue: str, *, delivery_limit: int, max_length: int, max_bytes: int
) -> dict[str, Any]:
    """Durable quorum queue: replicated, bounded, and counting deliveries to spot poison.

    ``reject-publish`` makes a full queue nack new messages (the gateway answers 503) and is
    what RabbitMQ requires for ``at-least-once`` dead-lettering, which does not drop a dead
    letter on its way to ``queue.dead``.
    """
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-max-length": max_length,
        "x-max-length-bytes": max_bytes,
        "x-overflow": "reject-publish",
        "x-dead-letter-exchange": dead_letter_exchange(queue),
        "x-dead-letter-strategy": "at-least-once",
    }


def queue_mismatch_hint(queue: str) -> str:
    """What both processes tell the operator when ``queue`` exists with other arguments."""
    return (
        f"queue {queue!r} exists with other arguments (declared by an earlier version of "
        "snapmatch); re-create it with `make migrate-queue`, which keeps the tasks waiting in it"
    )


def dead_letter_queue_arguments() -> dict[str, Any]:
    """Both dead-letter queues: durable quorum queues that drop their oldest when full."""
    return {
        "x-queue-type": "quorum",
        "x-max-length": DEAD_LETTER_MAX_LENGTH,
        "x-overflow": "drop-head",
    }

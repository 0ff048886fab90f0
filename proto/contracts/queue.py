"""The RabbitMQ topology, as data: every exchange, queue, argument and binding snapmatch uses.

The gateway (aio-pika), the worker (pika), the queue migration and the chaos drill all iterate
``task_topology(...)`` rather than naming queues themselves; RabbitMQ closes the channel
(406 PRECONDITION_FAILED) when two declarations of one queue disagree, so its arguments live
here once.

Topology for a task queue ``Q`` (``tasks`` by default)::

    Q --(delivery limit exceeded, or rejected)--> exchange Q.dead (fanout)
                                                   |-> queue Q.dead          kept for operators
                                                   '-> queue Q.dead.results  read by workers, which
                                                       store a terminal ``failed`` result
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

TASK_CONTENT_TYPE = "application/x-protobuf"
TASK_MESSAGE_TYPE = "snapmatch.v1.TaskMessage"

# AMQP reply code of a declaration whose arguments differ from the existing queue's.
PRECONDITION_FAILED = 406

# The operators' dead-letter queue keeps the newest messages only, so it cannot fill a disk.
DEAD_LETTER_MAX_LENGTH = 10_000


class QueueSettings(Protocol):
    """The settings the topology depends on (``config.Settings`` has them)."""

    @property
    def task_queue(self) -> str: ...
    @property
    def queue_delivery_limit(self) -> int: ...
    @property
    def queue_max_length(self) -> int: ...
    @property
    def queue_max_bytes(self) -> int: ...


@dataclass(frozen=True)
class Exchange:
    name: str
    type: str  # "fanout", "direct", ...
    durable: bool = True


@dataclass(frozen=True)
class Queue:
    name: str
    arguments: dict[str, Any]
    bound_to: tuple[str, ...] = ()  # exchanges this queue is bound to (no routing key)
    durable: bool = True


@dataclass(frozen=True)
class Topology:
    """Declare the exchanges first, then the queues, then each queue's bindings."""

    task_queue: Queue
    exchanges: tuple[Exchange, ...]
    dead_letter_queues: tuple[Queue, ...] = field(default=())

    @property
    def queues(self) -> tuple[Queue, ...]:
        """Dead-letter queues first: nothing dead-lettered is dropped for want of a queue."""
        return (*self.dead_letter_queues, self.task_queue)

    @property
    def dead_letter_queue(self) -> Queue:
        """Where dead-lettered tasks wait for an operator (nothing in snapmatch consumes it)."""
        return self.dead_letter_queues[0]

    @property
    def dead_letter_results_queue(self) -> Queue:
        """A second copy of each dead letter, consumed by workers to record the task failed."""
        return self.dead_letter_queues[1]


def task_topology(settings: QueueSettings) -> Topology:
    """The task queue and its dead-letter side for ``settings.task_queue``."""
    queue = settings.task_queue
    dead = Exchange(f"{queue}.dead", "fanout")
    dead_letter_arguments = {
        "x-queue-type": "quorum",
        "x-max-length": DEAD_LETTER_MAX_LENGTH,
        "x-overflow": "drop-head",
    }
    # Durable quorum queue: replicated, bounded, and counting deliveries to spot poison.
    # ``reject-publish`` makes a full queue nack new messages (the gateway answers 503) and is
    # what RabbitMQ requires for ``at-least-once`` dead-lettering, which does not drop a dead
    # letter on its way to ``Q.dead``.
    task_arguments = {
        "x-queue-type": "quorum",
        "x-delivery-limit": settings.queue_delivery_limit,
        "x-max-length": settings.queue_max_length,
        "x-max-length-bytes": settings.queue_max_bytes,
        "x-overflow": "reject-publish",
        "x-dead-letter-exchange": dead.name,
        "x-dead-letter-strategy": "at-least-once",
    }
    return Topology(
        task_queue=Queue(queue, task_arguments),
        exchanges=(dead,),
        dead_letter_queues=(
            Queue(f"{queue}.dead", dead_letter_arguments, bound_to=(dead.name,)),
            Queue(f"{queue}.dead.results", dead_letter_arguments, bound_to=(dead.name,)),
        ),
    )


def queue_mismatch_hint(queue: str) -> str:
    """What both processes tell the operator when ``queue`` exists with other arguments."""
    return (
        f"queue {queue!r} exists with other arguments (declared by an earlier version of "
        "snapmatch); re-create it with `make migrate-queue`, which keeps the tasks waiting in it"
    )

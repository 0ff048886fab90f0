"""How the task queue is declared. Both sides declare it; RabbitMQ closes the channel (406)
when two declarations disagree, so the arguments live here once."""

from typing import Any

TASK_CONTENT_TYPE = "application/x-protobuf"
TASK_MESSAGE_TYPE = "snapmatch.v1.TaskMessage"


def task_queue_arguments(delivery_limit: int) -> dict[str, Any]:
    """Durable quorum queue: replicated, and counts deliveries so poison messages are spotted."""
    return {"x-queue-type": "quorum", "x-delivery-limit": delivery_limit}

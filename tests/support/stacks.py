"""Stacks with their own settings, and direct looks at a queue's dead-letter side."""

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pika
from PIL import Image

from config import Settings
from contracts.queue import task_topology
from tools.devstack import AMQP_URL, Stack, delete_queue, queue_counts


@contextmanager
def custom_stack(log_dir: Path, **env: str) -> Iterator[Stack]:
    """A gateway (no workers) on a queue of its own, with extra ``SNAPMATCH_*`` settings."""
    stack = Stack(queue=f"tasks-{uuid.uuid4().hex[:8]}", log_dir=log_dir, env_overrides=env)
    try:
        stack.start_gateway()
        yield stack
    finally:
        stack.stop()
        delete_queue(stack.queue)


def dead_lettered(queue: str) -> int:
    """Messages waiting in the operators' dead-letter queue of ``queue``."""
    return queue_counts(task_topology(Settings(task_queue=queue)).dead_letter_queue.name)[0]


def awaiting_failure_record(queue: str) -> int:
    """Dead letters no worker has recorded as ``failed`` yet."""
    topology = task_topology(Settings(task_queue=queue))
    return queue_counts(topology.dead_letter_results_queue.name)[0]


def take_and_drop(queue: str) -> int:
    """Act as a consumer that dies holding the next message: take it unacked, then vanish.

    Returns the message's ``x-delivery-count`` as RabbitMQ delivered it.
    """
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        method, properties, _ = connection.channel().basic_get(queue)
        assert method is not None, f"no message in {queue}"
        return int((properties.headers or {}).get("x-delivery-count", 0))
    finally:
        connection.close()  # the unacked message goes back, counted as one more delivery


def publish_raw(queue: str, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    finally:
        connection.close()


def slow_png(side: int = 6000) -> bytes:
    """A valid 36-megapixel gradient PNG: small on the wire, but its decode takes the worker
    a noticeable while, long enough to kill it in the middle."""
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    pixels = np.stack(
        [
            np.tile(ramp, (side, 1)),
            np.tile(ramp, (side, 1)).T,
            np.full((side, side), 128, np.uint8),
        ],
        axis=-1,
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()

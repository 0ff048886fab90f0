"""The local RabbitMQ vhost, Redis database and catalog database a stack uses, and direct
looks into them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import pika
import redis

from config import Settings
from contracts.queue import task_topology
from contracts.redis_keys import task_key
from contracts.results import TaskRecord
from worker.queue.consumer import declare_topology


@dataclass(frozen=True)
class Services:
    """Where a stack's processes find RabbitMQ, Redis and MariaDB (all on 127.0.0.1, with the
    ``snapmatch`` users that scripts/ensure-services.sh creates)."""

    vhost: str
    redis_url: str
    database: str
    # The photo bucket on the local object store (scripts/object-store.sh); one per checkout.
    bucket: str = "snapmatch-photos"
    # The nodes of a RabbitMQ cluster (``SNAPMATCH_AMQP_URLS``) instead of the local broker.
    amqp_nodes: tuple[str, ...] = ()

    @property
    def amqp_urls(self) -> tuple[str, ...]:
        """The cluster's nodes, or the local broker's vhost."""
        return self.amqp_nodes or (f"amqp://snapmatch:snapmatch@127.0.0.1:5672/{self.vhost}",)

    @property
    def amqp_url(self) -> str:
        return self.amqp_urls[0]

    @property
    def database_url(self) -> str:
        return f"mariadb://snapmatch:snapmatch@127.0.0.1:3306/{self.database}"


def local_redis_url(db: int | str) -> str:
    return f"redis://127.0.0.1:6379/{db}"


# The checkout's own vhost, Redis database and catalog database, overridable so that several
# checkouts can run the suite (or the benchmark) at once without sharing queues or keys:
# `make test TEST_VHOST=... TEST_REDIS_DB=... TEST_DB=...` (the Makefile exports them).
TEST_VHOST = os.environ.get("TEST_VHOST", "snapmatch-test")
TEST_DB = os.environ.get("TEST_DB", "snapmatch_test")
TEST_SERVICES = Services(
    vhost=TEST_VHOST,
    redis_url=local_redis_url(os.environ.get("TEST_REDIS_DB", "1")),
    database=TEST_DB,
    bucket=f"{TEST_VHOST}-photos",
)
AMQP_URL = TEST_SERVICES.amqp_url
REDIS_URL = TEST_SERVICES.redis_url


def _connect(amqp_url: str | Sequence[str]) -> pika.BlockingConnection:
    """A connection to the first of the given nodes that answers."""
    urls = [amqp_url] if isinstance(amqp_url, str) else amqp_url
    return pika.BlockingConnection([pika.URLParameters(url) for url in urls])


def queue_counts(queue: str, *, amqp_url: str | Sequence[str] = AMQP_URL) -> tuple[int, int]:
    """(ready messages, consumers) of a queue, from a passive declare."""
    connection = _connect(amqp_url)
    try:
        ok = connection.channel().queue_declare(queue, passive=True)
        return ok.method.message_count, ok.method.consumer_count
    finally:
        connection.close()


def stored_attempts(task_ids: list[str], *, redis_url: str = REDIS_URL) -> list[int]:
    """How many deliveries each task's stored result records (1 = it ran once)."""
    store = redis.Redis.from_url(redis_url)
    try:
        return [TaskRecord.from_json(store.get(task_key(t))).attempts for t in task_ids]  # type: ignore[arg-type]
    finally:
        store.close()


def declare_queue(queue: str, *, amqp_url: str = AMQP_URL) -> None:
    """Declare a task queue and its dead-letter side as the gateway and workers do; on a
    cluster, the node at ``amqp_url`` becomes the leader of its quorum queues."""
    connection = _connect(amqp_url)
    try:
        declare_topology(connection.channel(), task_topology(Settings(task_queue=queue)))
    finally:
        connection.close()


def delete_queue(queue: str, *, amqp_url: str | Sequence[str] = AMQP_URL) -> None:
    """Delete a task queue and its dead-letter exchange and queues."""
    connection = _connect(amqp_url)
    try:
        channel = connection.channel()
        topology = task_topology(Settings(task_queue=queue))
        for declared in topology.queues:
            channel.queue_delete(declared.name)
        for exchange in topology.exchanges:
            channel.exchange_delete(exchange.name)
    finally:
        connection.close()

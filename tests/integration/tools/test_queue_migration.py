"""A task queue declared with an earlier version's arguments: the worker stops with a clear
pointer, and `make migrate-queue` re-creates the queue without losing the tasks in it."""

import subprocess
import sys
import uuid
from pathlib import Path

import pika

from config import Settings
from contracts.queue import task_topology
from tools.devstack import AMQP_URL, REPO_ROOT, base_env, delete_queue, spawn


def _old_queue_with_tasks(queue: str, tasks: int) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        old_arguments = {"x-queue-type": "quorum", "x-delivery-limit": 5}
        channel.queue_declare(queue, durable=True, arguments=old_arguments)
        for n in range(tasks):
            channel.basic_publish("", queue, f"task {n}".encode(), pika.BasicProperties())
    finally:
        connection.close()


def _declare_current(queue: str) -> int:
    """Declare with today's arguments (406 if they differ); return the waiting count."""
    arguments = task_topology(Settings(task_queue=queue)).task_queue.arguments
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ok = connection.channel().queue_declare(queue, durable=True, arguments=arguments)
        return int(ok.method.message_count)
    finally:
        connection.close()


def test_an_old_queue_is_migrated_with_its_tasks(tmp_path: Path, built_model: Path) -> None:
    queue = f"tasks-{uuid.uuid4().hex[:8]}"
    _old_queue_with_tasks(queue, tasks=3)
    try:
        worker = spawn("worker-old-queue", "worker", base_env(queue), tmp_path)
        assert worker.popen.wait(120) == 3
        assert "make migrate-queue" in worker.log()

        migration = subprocess.run(
            [sys.executable, "-m", "tools.queue_migration"],
            cwd=REPO_ROOT,
            env=base_env(queue),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migration.returncode == 0, migration.stderr
        assert '"moved": 3' in migration.stderr
        assert _declare_current(queue) == 3

        again = subprocess.run(
            [sys.executable, "-m", "tools.queue_migration"],
            cwd=REPO_ROOT,
            env=base_env(queue),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0
        assert "queue is up to date" in again.stderr
    finally:
        delete_queue(queue)
        delete_queue(f"{queue}.migrating")  # left behind only if the migration broke midway

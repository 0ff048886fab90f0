"""Start the real gateway and worker as subprocesses, the way `make run` does."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pika
import redis

from config import Settings
from contracts.queue import task_topology
from contracts.redis_keys import task_key
from contracts.results import TaskRecord

REPO_ROOT = Path(__file__).resolve().parents[2]
# Overridable so that several checkouts can run the suite at once without sharing queues or keys
# (`make test TEST_VHOST=... TEST_REDIS_DB=...`).
TEST_VHOST = os.environ.get("TEST_VHOST", "snapmatch-test")
AMQP_URL = f"amqp://snapmatch:snapmatch@127.0.0.1:5672/{TEST_VHOST}"
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '1')}"
MODEL_PATH = REPO_ROOT / "build" / "model" / "efficientnet-lite0.onnx"
# The catalog database (`make test TEST_DB=...`; scripts/ensure-services.sh creates it).
TEST_DB = os.environ.get("TEST_DB", "snapmatch_test")
DATABASE_URL = f"mariadb://snapmatch:snapmatch@127.0.0.1:3306/{TEST_DB}"


# What a worker logs right before each model run (worker.processor), with task_id and attempt.
MODEL_RUN_EVENT = "running the model"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def base_env(queue: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPMATCH_")}
    env.update(
        SNAPMATCH_ENVIRONMENT="test",
        SNAPMATCH_AUTH_MODE="emulator",
        SNAPMATCH_AMQP_URL=AMQP_URL,
        SNAPMATCH_REDIS_URL=REDIS_URL,
        SNAPMATCH_DATABASE_URL=DATABASE_URL,
        SNAPMATCH_TASK_QUEUE=queue,
        SNAPMATCH_MODEL_PATH=str(MODEL_PATH),
        # Workers get a free port each from Stack.start_worker; elsewhere no fixed port is taken.
        SNAPMATCH_WORKER_METRICS_PORT="0",
        PYTHONUNBUFFERED="1",
        # The suite's clients upload and poll far faster than a phone; the rate-limit tests
        # set their own budgets.
        SNAPMATCH_UPLOAD_RATE_LIMIT="100000",
        SNAPMATCH_POLL_RATE_LIMIT="100000",
    )
    env.update(overrides)
    return env


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int = 0  # a worker's Prometheus port (0: none)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, event: str) -> list[dict[str, Any]]:
        """The process's JSON log lines whose ``event`` is ``event``, parsed."""
        lines = (line for line in self.log().splitlines() if event in line)
        return [fields for fields in map(json.loads, lines) if fields.get("event") == event]

    def model_runs(self) -> list[dict[str, Any]]:
        """A worker's "running the model" lines (one before each run, with task_id, attempt)."""
        return self.events(MODEL_RUN_EVENT)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, sig: signal.Signals) -> None:
        self.popen.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


def spawn(name: str, module: str, env: dict[str, str], log_dir: Path) -> Process:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Process(name, popen, log_path)


def queue_counts(queue: str) -> tuple[int, int]:
    """(ready messages, consumers) of a queue, from a passive declare."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
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


def delete_queue(queue: str) -> None:
    """Delete a task queue and its dead-letter exchange and queues."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        topology = task_topology(Settings(task_queue=queue))
        for declared in topology.queues:
            channel.queue_delete(declared.name)
        for exchange in topology.exchanges:
            channel.exchange_delete(exchange.name)
    finally:
        connection.close()


@dataclass
class Stack:
    """A gateway and its workers sharing one queue."""

    queue: str
    log_dir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    gateway: Process | None = None
    workers: list[Process] = field(default_factory=list)
    base_url: str = ""

    def env(self) -> dict[str, str]:
        return base_env(self.queue, **self.env_overrides)

    def start_gateway(self, *, probe: str = "/ready") -> Process:
        """Start the gateway and wait until ``probe`` answers 200 (/health: merely up; /ready:
        every dependency, the catalog included)."""
        port = free_port()
        env = self.env() | {"SNAPMATCH_GATEWAY_PORT": str(port)}
        self.gateway = spawn(f"gateway-{self.queue}", "app", env, self.log_dir)
        self.base_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert self.gateway is not None
            if not self.gateway.alive:
                raise RuntimeError(f"gateway exited:\n{self.gateway.log()}")
            try:
                response = httpx.get(f"{self.base_url}{probe}", timeout=1)
            except httpx.HTTPError:
                return False
            # /ready answers 200 while merely degraded (catalog down): wait for "ready".
            return response.status_code == 200 and (
                probe != "/ready" or response.json().get("status") == "ready"
            )

        wait_until(ready, timeout=60, what=f"the gateway's {probe}")
        return self.gateway

    def start_worker(self, **extra_env: str) -> Process:
        index = len(self.workers) + 1
        heartbeat = self.log_dir / f"worker-{self.queue}-{index}.alive"
        env = (
            self.env()
            | {
                "SNAPMATCH_WORKER_HEARTBEAT_FILE": str(heartbeat),
                "SNAPMATCH_WORKER_METRICS_PORT": str(free_port()),
            }
            | extra_env
        )
        consumers_before = queue_counts(self.queue)[1]
        worker = spawn(f"worker-{self.queue}-{index}", "worker", env, self.log_dir)
        worker.metrics_port = int(env["SNAPMATCH_WORKER_METRICS_PORT"])
        self.workers.append(worker)

        def consuming() -> bool:
            if not worker.alive:
                raise RuntimeError(f"worker exited:\n{worker.log()}")
            return queue_counts(self.queue)[1] > consumers_before

        wait_until(consuming, timeout=60, what="the worker to consume")
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.gateway is not None:
            self.gateway.stop()

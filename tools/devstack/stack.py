"""A real gateway and its workers on one queue, started as processes the way `make run` does."""

import os
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.devstack.processes import REPO_ROOT, Process, free_port, spawn, wait_until
from tools.devstack.services import TEST_SERVICES, Services, queue_counts

# What `make model` builds (one .onnx and its card per model) and the registry it publishes
# them to, which the stack's gateway and workers serve.
MODEL_DIR = REPO_ROOT / "build" / "model"
REGISTRY = REPO_ROOT / "build" / "registry"


def base_env(queue: str, services: Services = TEST_SERVICES, **overrides: str) -> dict[str, str]:
    """The environment of a gateway or worker on ``queue``: this process's own, without its
    ``SNAPMATCH_*`` settings, plus ``services`` and ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPMATCH_")}
    env.update(
        SNAPMATCH_ENVIRONMENT="test",
        SNAPMATCH_AUTH_MODE="emulator",
        SNAPMATCH_AMQP_URL=services.amqp_url,
        SNAPMATCH_REDIS_URL=services.redis_url,
        SNAPMATCH_DATABASE_URL=services.database_url,
        SNAPMATCH_OBJECT_STORE_BUCKET=services.bucket,
        SNAPMATCH_TASK_QUEUE=queue,
        SNAPMATCH_MODEL_REGISTRY=str(REGISTRY),
        # Workers get a free port each from Stack.start_worker; elsewhere no fixed port is taken.
        SNAPMATCH_WORKER_METRICS_PORT="0",
        PYTHONUNBUFFERED="1",
        # The suite's clients upload and poll far faster than a phone; the rate-limit tests
        # set their own budgets.
        SNAPMATCH_UPLOAD_RATE_LIMIT="100000",
        SNAPMATCH_POLL_RATE_LIMIT="100000",
    )
    if services.amqp_nodes:
        env["SNAPMATCH_AMQP_URLS"] = ",".join(services.amqp_nodes)
    env.update(overrides)
    return env


@dataclass
class Stack:
    """A gateway and its workers sharing one queue.

    ``workers`` keeps every worker started, dead or alive, so that each one's name (and log
    file) stays its own.
    """

    queue: str
    log_dir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    services: Services = TEST_SERVICES
    gateway: Process | None = None
    workers: list[Process] = field(default_factory=list)
    base_url: str = ""
    root: Path = REPO_ROOT  # the checkout whose code runs (the benchmark's baseline: another)

    def env(self) -> dict[str, str]:
        env = base_env(self.queue, self.services, **self.env_overrides)
        if self.root != REPO_ROOT:  # its own packages first, the contracts included
            env["PYTHONPATH"] = f"{self.root}{os.pathsep}{self.root / 'proto'}"
        return env

    def consumers(self) -> int:
        """How many consumers the broker counts on the queue."""
        return queue_counts(self.queue, amqp_url=self.services.amqp_urls)[1]

    def start_gateway(self, *, probe: str = "/ready") -> Process:
        """Start the gateway and wait until ``probe`` answers 200 (/health: merely up; /ready:
        every dependency, the catalog included)."""
        port = free_port()
        env = self.env() | {"SNAPMATCH_GATEWAY_PORT": str(port)}
        self.gateway = spawn(f"gateway-{self.queue}", "app", env, self.log_dir, root=self.root)
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

    def start_worker(self, *, wait: bool = True, **extra_env: str) -> Process:
        """Start one more worker; with ``wait``, return once the broker counts its consumer."""
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
        consumers_before = self.consumers() if wait else 0
        worker = spawn(f"worker-{self.queue}-{index}", "worker", env, self.log_dir, root=self.root)
        worker.metrics_port = int(env["SNAPMATCH_WORKER_METRICS_PORT"])
        self.workers.append(worker)

        def consuming() -> bool:
            if not worker.alive:
                raise RuntimeError(f"worker exited:\n{worker.log()}")
            return self.consumers() > consumers_before

        if wait:
            wait_until(consuming, timeout=60, what="the worker to consume")
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.gateway is not None:
            self.gateway.stop()

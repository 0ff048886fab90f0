"""The whole system: a real gateway and workers, uploads over HTTP, results by long-poll."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tools.bench.results import Sample
from tools.bench.system import peak_rss_mb, pids_listening, pids_named
from tools.devstack import REPO_ROOT, Services, Stack, delete_queue, queue_counts, wait_until


async def one_request(client: httpx.AsyncClient, headers: dict[str, str], jpeg: bytes) -> Sample:
    """Upload ``jpeg``, long-poll its result; the timings of each stage."""
    started = time.perf_counter()
    response = await client.post(
        "/predict", headers=headers, files={"image": ("photo.jpg", jpeg, "image/jpeg")}
    )
    uploaded = time.perf_counter()
    response.raise_for_status()
    task_id = response.json()["task_id"]
    while True:
        result = await client.get(f"/result/{task_id}", params={"wait": 30}, headers=headers)
        if result.status_code == 200:
            break
        if result.status_code != 404 or result.json()["status"] != "pending":
            raise RuntimeError(f"unexpected answer {result.status_code}: {result.text}")
    finished = time.perf_counter()
    received_at = datetime.now(UTC)
    body = result.json()
    if body["status"] != "done":
        raise RuntimeError(f"task failed: {body}")
    completed_at = datetime.fromisoformat(body["completed_at"])
    timings = body["timings"]
    return Sample(
        upload_ms=(uploaded - started) * 1000,
        e2e_ms=(finished - started) * 1000,
        queued_ms=timings["queued_ms"],
        preprocess_ms=timings["preprocess_ms"],
        inference_ms=timings["inference_ms"],
        after_ms=(received_at - completed_at).total_seconds() * 1000,
    )


async def drive(
    base_url: str, token: str, jpegs: Sequence[bytes], clients: int, seconds: float
) -> tuple[list[Sample], float]:
    """``clients`` closed-loop clients for ``seconds``: upload, long-poll, repeat."""
    headers = {"Authorization": f"Bearer {token}"}
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        for jpeg in jpegs:  # warm up connections and caches
            await one_request(client, headers, jpeg)
        deadline = time.perf_counter() + seconds

        async def loop(offset: int) -> None:
            index = offset
            while time.perf_counter() < deadline:
                samples.append(await one_request(client, headers, jpegs[index % len(jpegs)]))
                index += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return samples, len(samples) / elapsed


@dataclass(frozen=True)
class StackHandle:
    base_url: str
    queue: str
    services: Services
    pids: dict[str, list[int]]  # by role: gateway, worker, rabbitmq, redis, client
    rss: Callable[[], dict[str, float]]  # peak RSS (MB) of the gateway and the largest worker

    def backlog(self) -> int:
        """Tasks waiting in the queue."""
        return queue_counts(self.queue, amqp_url=self.services.amqp_url)[0]


async def never_blocks(stack: StackHandle, token: str, backlog: bytes, probe: bytes) -> list[float]:
    """50 uploads in a row while other clients keep the workers saturated: POST times (ms)."""
    headers = {"Authorization": f"Bearer {token}"}
    files = {"image": ("photo.jpg", backlog, "image/jpeg")}
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
        stop = asyncio.Event()

        async def flood() -> None:
            while not stop.is_set():
                (await client.post("/predict", headers=headers, files=files)).raise_for_status()

        flooders = [asyncio.create_task(flood()) for _ in range(4)]
        await asyncio.to_thread(  # the workers are behind: saturated
            wait_until, lambda: stack.backlog() >= 20, timeout=120, what="a backlog"
        )
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            response = await client.post(
                "/predict", headers=headers, files={"image": ("p.jpg", probe, "image/jpeg")}
            )
            times.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
        stop.set()
        await asyncio.gather(*flooders)
    await asyncio.to_thread(  # let the backlog drain before the next measurement
        wait_until, lambda: stack.backlog() == 0, timeout=300, what="the backlog to drain"
    )
    return times


@contextmanager
def running_stack(
    log_dir: Path,
    workers: int,
    services: Services,
    env: dict[str, str] | None = None,
    *,
    root: Path = REPO_ROOT,
) -> Iterator[StackHandle]:
    """A gateway and ``workers`` workers on a queue of their own, deleted afterwards; the code of
    the checkout at ``root``. Settings are `make run`'s (development, every default) but for
    ``env`` and rate limits no benchmark client reaches."""
    stack = Stack(
        queue=f"bench-{uuid.uuid4().hex[:8]}",
        log_dir=log_dir,
        env_overrides={
            "SNAPMATCH_ENVIRONMENT": "development",
            "SNAPMATCH_WORKER_PROCESSES": str(workers),
            # Budgets no benchmark client exhausts, still counted in Redis on every request as
            # with the defaults, over a window short enough that a user's moving-window list
            # stays as small as the defaults keep it (the suite's 100000 would make it huge).
            "SNAPMATCH_RATE_LIMIT_WINDOW_SECONDS": "1",
            "SNAPMATCH_UPLOAD_RATE_LIMIT": "1000",
            "SNAPMATCH_POLL_RATE_LIMIT": "1000",
        }
        | (env or {}),
        services=services,
        root=root,
    )
    try:
        stack.start_gateway()
        for _ in range(workers):
            stack.start_worker()
        assert stack.gateway is not None
        gateway = stack.gateway.popen.pid
        worker_pids = [w.popen.pid for w in stack.workers]
        pids = {
            "gateway": [gateway],
            "worker": worker_pids,
            "rabbitmq": _server_pids(services.amqp_url, 5672, "beam.smp"),
            "redis": _server_pids(services.redis_url, 6379, "redis-server"),
            "client": [os.getpid()],
        }

        def rss() -> dict[str, float]:
            return {
                "gateway": peak_rss_mb(gateway),
                "worker": max(peak_rss_mb(p) for p in worker_pids),
            }

        yield StackHandle(stack.base_url, stack.queue, services, pids, rss)
    finally:
        stack.stop()
        delete_queue(stack.queue, amqp_url=services.amqp_url)


def _server_pids(url: str, default_port: int, command: str) -> list[int]:
    """The server behind ``url`` by its listening port; by command name where /proc does not
    tell (then every such server on the machine counts)."""
    return pids_listening(urlsplit(url).port or default_port) or pids_named(command)

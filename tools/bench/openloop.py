"""Open-loop load: uploads arrive at a constant rate whether or not earlier ones are answered,
as photos from many phones do. A closed loop (each client waits for its answer) slows its own
arrivals when the system slows and so hides queueing; this one shows it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

# Arrivals still unanswered this long after the last one are counted as lost, not waited for.
_DRAIN_SECONDS = 20.0


@dataclass(frozen=True)
class OpenLoopResult:
    load: float  # the arrival rate as a share of the measured capacity (0.5 = 50 %)
    rate: float  # arrivals per second
    latencies_ms: list[float]  # POST start to the client holding the result, answered ones
    refused: int  # uploads answered 503 (broker or store unavailable, queue full)
    failed: int  # any other non-success, and arrivals unanswered after the drain
    sent: int
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core by role, as CpuMeter

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def refused_share(self) -> float:
        return self.refused / self.sent if self.sent else 0.0

    @property
    def tail_ratio(self) -> float:
        """p99 / p50: how far the slowest answers stray from the typical one."""
        return self.pct(99) / self.pct(50) if self.latencies_ms else float("nan")


def arrival_offsets(rate: float, seconds: float) -> list[float]:
    """Seconds from the start at which each upload is sent: evenly spaced at ``rate``/s."""
    count = max(1, int(rate * seconds))
    return [i / rate for i in range(count)]


async def _one(client: httpx.AsyncClient, headers: dict[str, str], jpeg: bytes) -> float | int:
    """Upload and long-poll: the latency in ms, or the HTTP status that ended it early."""
    started = time.perf_counter()
    response = await client.post(
        "/predict", headers=headers, files={"image": ("photo.jpg", jpeg, "image/jpeg")}
    )
    if response.status_code != 202:
        return response.status_code
    task_id = response.json()["task_id"]
    while True:
        result = await client.get(f"/result/{task_id}", params={"wait": 30}, headers=headers)
        if result.status_code == 200:
            return (time.perf_counter() - started) * 1000
        if result.status_code != 404 or result.json().get("status") != "pending":
            return result.status_code


async def open_loop(
    base_url: str,
    token: str,
    jpegs: Sequence[bytes],
    *,
    rate: float,
    seconds: float,
    load: float,
    progress: Callable[[str], None] = lambda _: None,
) -> OpenLoopResult:
    """Send uploads at ``rate`` per second for ``seconds``, each on its own schedule."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        await _one(client, headers, jpegs[0])  # a warm connection and model
        started = time.perf_counter()
        tasks = []
        for index, offset in enumerate(arrival_offsets(rate, seconds)):
            delay = started + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(client, headers, jpegs[index % len(jpegs)])))
        progress(f"    {len(tasks)} sent; waiting for the last answers ...")
        done, pending = await asyncio.wait(tasks, timeout=_DRAIN_SECONDS)
        for task in pending:
            task.cancel()
    outcomes = [t.result() if t.exception() is None else -1 for t in done]
    return summarize(load, rate, outcomes, lost=len(pending))


def summarize(
    load: float, rate: float, outcomes: Sequence[float | int], *, lost: int
) -> OpenLoopResult:
    """Latencies (floats, ms) apart from statuses (ints): 503 refused, anything else failed."""
    latencies = [o for o in outcomes if isinstance(o, float)]
    statuses = [o for o in outcomes if not isinstance(o, float)]
    refused = sum(1 for s in statuses if s == 503)
    return OpenLoopResult(
        load=load,
        rate=rate,
        latencies_ms=latencies,
        refused=refused,
        failed=len(statuses) - refused + lost,
        sent=len(outcomes) + lost,
    )

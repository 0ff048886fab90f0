"""CPU per photo by process, from /proc/<pid>/stat deltas over a pipeline run: what the system
around the model costs. The model's own share (decode + inference) is the kernel's CPU per photo
under the workers' settings; the rest of a worker's CPU is queue, protobuf, Redis and logging."""

from __future__ import annotations

from dataclasses import dataclass

from tools.bench.results import PipelineResult


@dataclass(frozen=True)
class CpuCost:
    """CPU-ms per finished photo."""

    gateway: float
    worker: float  # the worker processes, all of it
    model: float  # of ``worker``: decode + inference (the kernel's CPU per photo)
    broker: float  # RabbitMQ (beam.smp)
    redis: float
    client: float  # the load generator, for completeness: not part of the system

    @property
    def worker_outside_model(self) -> float:
        return max(0.0, self.worker - self.model)

    @property
    def non_model(self) -> float:
        """Gateway + broker + Redis + the worker outside decode and inference."""
        return self.gateway + self.broker + self.redis + self.worker_outside_model


def cpu_cost(run: PipelineResult, model_cpu_ms: float) -> CpuCost:
    """``run``'s CPU per photo by role; ``model_cpu_ms`` is the kernel's CPU per photo."""
    photos = len(run.samples) or 1

    def per_photo(role: str) -> float:
        return 1000 * run.cpu_seconds.get(role, 0.0) / photos

    return CpuCost(
        gateway=per_photo("gateway"),
        worker=per_photo("worker"),
        model=model_cpu_ms,
        broker=per_photo("rabbitmq"),
        redis=per_photo("redis"),
        client=per_photo("client"),
    )

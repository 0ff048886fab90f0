"""What one benchmark run measured: plain data, rendered by ``report``."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class KernelResult:
    model: str  # "fp32" or "int8"
    size_mp: float
    images_per_s: float
    preprocess_ms: float
    inference_ms: float
    cpu_ms_per_image: float


@dataclass(frozen=True)
class Sample:
    """One upload through the pipeline, in ms."""

    upload_ms: float
    e2e_ms: float
    queued_ms: float
    preprocess_ms: float
    inference_ms: float
    after_ms: float  # from the worker's completed_at to the client holding the result


@dataclass(frozen=True)
class PipelineResult:
    config: str
    size_mp: float
    clients: int
    images_per_s: float
    samples: list[Sample]
    cpu: dict[str, float]  # % of one core, by role ("gateway", "worker", ..., "machine")
    cpu_seconds: dict[str, float]

    def pct(self, q: float) -> float:
        return float(np.percentile([s.e2e_ms for s in self.samples], q))

    def median(self, pick: Callable[[Sample], float]) -> float:
        return statistics.median(pick(s) for s in self.samples)


@dataclass(frozen=True)
class ModelResult:
    name: str
    precision: str
    input_size: int
    size_mb: float
    load_s: float
    rss_mb: float  # one more loaded model
    first_rss_mb: float  # the first model of a process, onnxruntime's start-up included
    inference_ms: float
    images_per_s: float
    agree: int
    images: int
    miss_ms: float  # first task on the model through the pipeline: end to end
    miss_load_ms: float  # ... of which waiting for the load (timings.model_load_ms)
    hit_ms: float  # the next task, model loaded


@dataclass(frozen=True)
class Measurements:
    machine: list[str]  # Markdown bullet lines describing the machine
    kernels: list[KernelResult]
    pipelines: list[PipelineResult]
    sweep: list[tuple[str, float, float]]  # (session setting, img/s, median ms)
    batches: list[tuple[int, float]]  # (batch size, img/s)
    blocks: list[float]  # POST times (ms) while the workers are saturated
    agreement: tuple[int, int]  # int8 top-1 agreeing with fp32, out of so many images
    rss: dict[str, dict[str, float]]  # peak RSS (MB) of "gateway" and "worker", by config
    models: list[ModelResult] = field(default_factory=list)
    note: str = ""

    def kernel_of(self) -> dict[tuple[str, float], KernelResult]:
        """The kernel results by (model, megapixels)."""
        return {(k.model, k.size_mp): k for k in self.kernels}

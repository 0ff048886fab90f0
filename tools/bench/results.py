"""What one benchmark run measured: plain data, rendered by ``report``."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tools.bench.openloop import OpenLoopResult

# The configuration `make run` gives a user on this machine, which the targets are judged on.
DEFAULTS = "defaults"


@dataclass(frozen=True)
class KernelResult:
    model: str  # "fp32" or "int8"
    size_mp: float
    images_per_s: float
    preprocess_ms: float
    inference_ms: float
    cpu_ms_per_image: float
    setting: str = "1 thread(s), spinning off"  # onnxruntime threads and spinning


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
    # fp32 1.2 MP kernel in one process under several onnxruntime settings; the best one is the
    # reference the pipeline is held to, the worker's own settings give its model CPU per photo.
    reference: list[KernelResult] = field(default_factory=list)
    worker_setting: str = ""  # the label (KernelResult.setting) of the workers' default
    open_loop: list[OpenLoopResult] = field(default_factory=list)
    capacity: float = 0.0  # img/s the open-loop rates are shares of
    plot: str = ""  # the open-loop PNG, relative to the report
    ab: list[tuple[PipelineResult, PipelineResult]] = field(default_factory=list)  # (A, B)

    def best_reference(self) -> KernelResult | None:
        return max(self.reference, key=lambda k: k.images_per_s, default=None)

    def worker_kernel(self) -> KernelResult | None:
        """The kernel under the workers' own onnxruntime settings (its CPU per photo is the
        model's share of a worker's)."""
        return next((k for k in self.reference if k.setting == self.worker_setting), None)

    def kernel_of(self) -> dict[tuple[str, float], KernelResult]:
        """The kernel results by (model, megapixels)."""
        return {(k.model, k.size_mp): k for k in self.kernels}

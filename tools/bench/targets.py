"""The pipeline's four targets, judged from one run on the defaults `make run` gives."""

from __future__ import annotations

from dataclasses import dataclass

from tools.bench.cpu_cost import cpu_cost
from tools.bench.results import DEFAULTS, Measurements, PipelineResult
from tools.bench.text import fmt

P50_GOAL_MS = 15.0
KERNEL_SHARE_GOAL = 0.85
NON_MODEL_CPU_GOAL_MS = 4.0
TAIL_RATIO_GOAL = 3.0  # p99 <= 3 x p50 at 70 % of capacity
TAIL_LOAD = 0.7


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "**FAIL**", None: "not measured"}[self.met]


def default_runs(m: Measurements) -> list[PipelineResult]:
    """The defaults' closed-loop runs on the 1.2 MP photo."""
    return [p for p in m.pipelines if p.config == DEFAULTS and p.size_mp == 1.2 and p.samples]


def best_run(m: Measurements) -> PipelineResult | None:
    return max(default_runs(m), key=lambda p: p.images_per_s, default=None)


def targets(m: Measurements) -> list[Target]:
    return [_latency(m), _kernel_share(m), _non_model_cpu(m), _open_loop_tail(m)]


def _latency(m: Measurements) -> Target:
    name, goal = "p50 end to end, 1.2 MP JPEG, one client, long-poll", f"<= {P50_GOAL_MS:g} ms"
    single = next((p for p in default_runs(m) if p.clients == 1), None)
    if single is None:
        return Target(name, goal, "-", None)
    p50 = single.pct(50)
    return Target(name, goal, f"{fmt(p50)} ms", p50 <= P50_GOAL_MS)


def _kernel_share(m: Measurements) -> Target:
    name = "pipeline img/s / raw kernel img/s (best client count; kernel at its best setting)"
    goal = f">= {KERNEL_SHARE_GOAL:.2f}"
    best, kernel = best_run(m), m.best_reference()
    if best is None or kernel is None:
        return Target(name, goal, "-", None)
    share = best.images_per_s / kernel.images_per_s
    measured = (
        f"{share:.2f} ({fmt(best.images_per_s)} at {best.clients} clients vs "
        f"{fmt(kernel.images_per_s)} img/s, {kernel.setting})"
    )
    return Target(name, goal, measured, share >= KERNEL_SHARE_GOAL)


def _non_model_cpu(m: Measurements) -> Target:
    name = "non-model CPU per photo (gateway + broker + Redis + worker outside decode/infer)"
    goal = f"<= {NON_MODEL_CPU_GOAL_MS:g} CPU-ms"
    best, kernel = best_run(m), m.worker_kernel()
    if best is None or kernel is None:
        return Target(name, goal, "-", None)
    cost = cpu_cost(best, kernel.cpu_ms_per_image)
    measured = f"{fmt(cost.non_model)} CPU-ms (at {best.clients} clients)"
    return Target(name, goal, measured, cost.non_model <= NON_MODEL_CPU_GOAL_MS)


def _open_loop_tail(m: Measurements) -> Target:
    name = f"open loop at {TAIL_LOAD:.0%} of capacity: p99 / p50"
    goal = f"<= {TAIL_RATIO_GOAL:g}"
    at = next((r for r in m.open_loop if abs(r.load - TAIL_LOAD) < 1e-6), None)
    if at is None or not at.latencies_ms:
        return Target(name, goal, "-", None)
    measured = f"{at.tail_ratio:.2f} (p50 {fmt(at.pct(50))}, p99 {fmt(at.pct(99))} ms)"
    return Target(name, goal, measured, at.tail_ratio <= TAIL_RATIO_GOAL)

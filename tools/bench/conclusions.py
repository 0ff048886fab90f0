"""Sentences computed from one run: what keeps the pipeline from the kernel's speed, and the
worker's defaults next to the numbers that bear on them."""

from __future__ import annotations

import os

from config import machine
from tools.bench.results import DEFAULTS, KernelResult, PipelineResult
from tools.bench.text import fmt


def defaults_and_why(
    kernel_of: dict[tuple[str, float], KernelResult],
    pipelines: list[PipelineResult],
    sweep: list[tuple[str, float, float]],
    batches: list[tuple[int, float]],
    agreement: tuple[int, int],
) -> list[str]:
    """The worker's defaults, each next to this run's numbers that bear on it."""
    at = {(p.config, p.clients): p for p in pipelines if p.size_mp == 1.2 and p.samples}
    cores = machine.available_cores()
    workers = machine.default_worker_processes(cores)
    one_thread = f"{workers} worker(s) x 1 thread"
    lines = ["", "## Defaults and why", ""]
    wanted = [(c, n) for c in (DEFAULTS, one_thread, "1 worker x 1 thread") for n in (1, 4)]
    if all(key in at for key in wanted):
        lines.append(
            f"- {workers} worker(s) on {cores} core(s), "
            f"{machine.default_inference_threads(cores)} intra-op threads each "
            "(`SNAPMATCH_WORKER_PROCESSES`, `SNAPMATCH_WORKER_INFERENCE_THREADS`, from "
            "`config/machine.py`): p50 at one client "
            + ", ".join(f"{fmt(at[(c, 1)].pct(50))} ms {_name(c)}" for c, _ in wanted[::2])
            + "; img/s at 4 clients "
            + ", ".join(f"{fmt(at[(c, 4)].images_per_s)} {_name(c)}" for c, _ in wanted[::2])
            + ". A second thread shortens a lone photo's inference; one worker per core keeps "
            "every core busy under load."
        )
    if sweep:
        best = max(sweep, key=lambda row: row[1])
        lines.append(
            "- Spinning off unless the workers' threads leave 2 cores free "
            "(`SNAPMATCH_WORKER_INFERENCE_SPINNING`): inference alone, best "
            f"{best[0]} at {fmt(best[1])} img/s, but a spinning thread holds a core the gateway "
            "and the broker need on a small host."
        )
    if (DEFAULTS, 4) in at and ("prefetch 1", 4) in at:
        lines.append(
            f"- Prefetch 2 (`SNAPMATCH_WORKER_PREFETCH`): {fmt(at[(DEFAULTS, 4)].images_per_s)} "
            f"img/s against {fmt(at[('prefetch 1', 4)].images_per_s)} with prefetch 1 at 4 "
            "clients; the next message is already local when a task ends, and more only hoards "
            "work other workers could do."
        )
    if batches:
        lines.append(
            "- Micro-batching off (`SNAPMATCH_WORKER_BATCH_MAX_SIZE=1`): the model alone made "
            + ", ".join(f"{fmt(ips)} img/s at batch {size}" for size, ips in batches)
            + (
                f"; in the pipeline at 8 clients batch 8 made "
                f"{fmt(at[('batch 8 / 5 ms', 8)].images_per_s)} img/s against "
                f"{fmt(at[(DEFAULTS, 8)].images_per_s)} without"
                if (DEFAULTS, 8) in at and ("batch 8 / 5 ms", 8) in at
                else ""
            )
            + ". Turn it on for a GPU, where one call on many images is much cheaper."
        )
    if ("fp32", 1.2) in kernel_of and ("int8", 1.2) in kernel_of:
        fp32, int8 = kernel_of[("fp32", 1.2)], kernel_of[("int8", 1.2)]
        lines.append(
            f"- fp32 by default, int8 by choice: int8 inference {fmt(int8.inference_ms, 2)} ms "
            f"against {fmt(fp32.inference_ms, 2)} ms (kernel {fmt(int8.images_per_s)} against "
            f"{fmt(fp32.images_per_s)} img/s at 1.2 MP), agreeing with fp32's top-1 on "
            f"{agreement[0]} of {agreement[1]} held-out images."
        )
    return lines


def _name(config: str) -> str:
    return "(defaults)" if config == DEFAULTS else f"({config})"


def where_the_time_goes(
    pipelines: list[PipelineResult], kernel_of: dict[tuple[str, float], KernelResult]
) -> list[str]:
    """Sentences, computed from this run, on what keeps the pipeline from the kernel's speed."""
    runs = [p for p in pipelines if p.config == DEFAULTS and p.size_mp == 1.2 and p.samples]
    if not runs or ("fp32", 1.2) not in kernel_of:
        return []
    best = max(runs, key=lambda p: p.images_per_s)
    base = kernel_of[("fp32", 1.2)]
    per_image = {r: 1000 * used / len(best.samples) for r, used in best.cpu_seconds.items()}
    total = sum(v for r, v in per_image.items() if r != "machine")
    cores = os.cpu_count() or 1
    return [
        "",
        f"Where the time goes (defaults, 1.2 MP, {best.clients} clients, the best run): the "
        f"worker spent {fmt(per_image['worker'])} ms of CPU per image against the kernel's "
        f"{fmt(base.cpu_ms_per_image)} ms; the gateway {fmt(per_image['gateway'])}, RabbitMQ "
        f"{fmt(per_image['rabbitmq'])}, Redis {fmt(per_image['redis'])} and the load-generating "
        f"client {fmt(per_image['client'])} ms. All together {fmt(total)} CPU-ms per image where "
        f"the kernel needs {fmt(base.cpu_ms_per_image)}: on {cores} cores that alone caps the "
        f"pipeline at {fmt(cores * 1000 / total)} img/s. The machine as a whole was "
        f"{best.cpu.get('machine', 0):.0f} % busy (of {cores * 100} %) during that run, "
        "other programs included.",
    ]

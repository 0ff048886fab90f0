"""Sentences computed from one run: what keeps the pipeline from the kernel's speed, and the
worker's defaults next to the numbers that bear on them."""

from __future__ import annotations

import os

from tools.bench.results import KernelResult, PipelineResult
from tools.bench.text import fmt


def defaults_and_why(
    kernel_of: dict[tuple[str, float], KernelResult],
    pipelines: list[PipelineResult],
    sweep: list[tuple[str, float, float]],
    batches: list[tuple[int, float]],
    agreement: tuple[int, int],
) -> list[str]:
    """The worker's defaults, each next to this run's numbers that bear on it."""
    at4 = {p.config: p.images_per_s for p in pipelines if p.size_mp == 1.2 and p.clients == 4}
    at1 = {p.config: p.pct(50) for p in pipelines if p.size_mp == 1.2 and p.clients == 1}
    lines = ["", "## Defaults and why", ""]
    if sweep:
        best = max(sweep, key=lambda row: row[1])
        lines.append(
            f"- One intra-op thread, spinning off (`SNAPMATCH_WORKER_INFERENCE_THREADS=1`): "
            f"{fmt(sweep[0][1])} img/s here; the best setting in this run was {best[0]} at "
            f"{fmt(best[1])} img/s. A second thread and spinning only pay on an otherwise idle "
            "machine; the worker shares its cores with the broker and the gateway."
        )
    if {"fp32", "fp32 1 worker x 2 threads", "fp32 2 workers x 1 thread"} <= at4.keys():
        lines.append(
            f"- Processes, not threads, to use more cores: at 4 clients one 1-thread worker "
            f"made {fmt(at4['fp32'])} img/s, one 2-thread worker "
            f"{fmt(at4['fp32 1 worker x 2 threads'])}, two 1-thread workers "
            f"{fmt(at4['fp32 2 workers x 1 thread'])}. Extra workers also decode in parallel "
            "and survive each other's crashes; add them only where cores are free."
        )
    if {"fp32", "fp32 prefetch 1"} <= at4.keys():
        lines.append(
            f"- Prefetch 2 (`SNAPMATCH_WORKER_PREFETCH`): {fmt(at4['fp32'])} img/s against "
            f"{fmt(at4['fp32 prefetch 1'])} with prefetch 1 at 4 clients; the next message is "
            "already local when a task ends, and more only hoards work other workers could do."
        )
    if batches:
        lines.append(
            "- Micro-batching off (`SNAPMATCH_WORKER_BATCH_MAX_SIZE=1`): the model alone made "
            + ", ".join(f"{fmt(ips)} img/s at batch {size}" for size, ips in batches)
            + (
                f"; in the pipeline batch 8 gave {fmt(at1['fp32 batch 8 / 5 ms'])} ms p50 at "
                f"one client against {fmt(at1['fp32'])} ms without"
                if {"fp32", "fp32 batch 8 / 5 ms"} <= at1.keys()
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


def where_the_time_goes(
    pipelines: list[PipelineResult], kernel_of: dict[tuple[str, float], KernelResult]
) -> list[str]:
    """Sentences, computed from this run, on what keeps the pipeline from the kernel's speed."""
    runs = [p for p in pipelines if p.config == "fp32" and p.size_mp == 1.2 and p.samples]
    if not runs or ("fp32", 1.2) not in kernel_of:
        return []
    best = max(runs, key=lambda p: p.images_per_s)
    base = kernel_of[("fp32", 1.2)]
    per_image = {r: 1000 * used / len(best.samples) for r, used in best.cpu_seconds.items()}
    total = sum(v for r, v in per_image.items() if r != "machine")
    cores = os.cpu_count() or 1
    return [
        "",
        f"Where the time goes (fp32, 1.2 MP, {best.clients} clients, the best pipeline run): the "
        f"worker spent {fmt(per_image['worker'])} ms of CPU per image against the kernel's "
        f"{fmt(base.cpu_ms_per_image)} ms; the gateway {fmt(per_image['gateway'])}, RabbitMQ "
        f"{fmt(per_image['rabbitmq'])}, Redis {fmt(per_image['redis'])} and the load-generating "
        f"client {fmt(per_image['client'])} ms. All together {fmt(total)} CPU-ms per image where "
        f"the kernel needs {fmt(base.cpu_ms_per_image)}: on {cores} cores that alone caps the "
        f"pipeline at {fmt(cores * 1000 / total)} img/s, and one single-threaded worker at "
        f"{fmt(1000 / per_image['worker'])} img/s. The machine as a whole was "
        f"{best.cpu.get('machine', 0):.0f} % busy (of {cores * 100} %) during that run, "
        "other programs included.",
    ]

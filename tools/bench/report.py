"""docs/BENCHMARKS.md from one run's measurements: the tables, then the conclusions."""

from __future__ import annotations

import numpy as np

from tools.bench.conclusions import defaults_and_why, where_the_time_goes
from tools.bench.cpu_cost import cpu_cost
from tools.bench.models import render_models
from tools.bench.report_extra import ab_table, open_loop_section, reference_table
from tools.bench.results import DEFAULTS, KernelResult, Measurements, PipelineResult
from tools.bench.targets import targets
from tools.bench.text import fmt

KernelIndex = dict[tuple[str, float], KernelResult]
PIPELINE_CPU_ROLES = ("gateway", "worker", "rabbitmq", "redis", "client", "machine")


def render(m: Measurements) -> str:
    kernel_of = m.kernel_of()
    lines = ["# Benchmarks", "", "Written by `make bench` (`python -m tools.bench`).", ""]
    lines += m.machine
    if m.note:
        lines += ["", f"**Note:** {m.note}"]
    lines += _targets(m)
    lines += _kernel_table(m.kernels)
    lines += reference_table(m)
    lines += _pipeline_table(m.pipelines, kernel_of)
    lines += _cpu_cost_table(m, kernel_of)
    lines += where_the_time_goes(m.pipelines, kernel_of)
    lines += open_loop_section(m)
    lines += ab_table(m)
    lines += _rss_table(m.rss)
    lines += _session_options(m.sweep, m.batches)
    lines += _int8(m.agreement)
    lines += render_models(m.models)
    lines += defaults_and_why(kernel_of, m.pipelines, m.sweep, m.batches, m.agreement)
    return "\n".join(lines) + "\n"


def _model_of(pipeline: PipelineResult) -> str:
    return "int8" if pipeline.config.startswith("int8") else "fp32"


def _targets(m: Measurements) -> list[str]:
    lines = [
        "",
        "## Targets",
        "",
        f"Judged on the defaults `make run` gives on this machine (`{DEFAULTS}` below).",
        "",
        "| target | goal | measured | verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {t.name} | {t.goal} | {t.measured} | {t.verdict} |" for t in targets(m)]
    if m.blocks:
        lines.append(
            f"| POST while the workers are saturated (50 in a row) | fast | "
            f"p50 {fmt(float(np.percentile(m.blocks, 50)))} ms, "
            f"p99 {fmt(float(np.percentile(m.blocks, 99)))} ms | - |"
        )
    return lines


def _kernel_table(kernels: list[KernelResult]) -> list[str]:
    lines = [
        "",
        "## Raw kernel",
        "",
        "`Classifier.classify` (decode with JPEG draft mode, EXIF, resize, crop, normalise, "
        "inference, top-5) in a tight loop in one process, 1 intra-op thread.",
        "",
        "| model | image | img/s | preprocess p50 ms | inference p50 ms | CPU ms / image |",
        "|---|---|---|---|---|---|",
    ]
    for row in kernels:
        lines.append(
            f"| {row.model} | {row.size_mp} MP | {fmt(row.images_per_s)} "
            f"| {fmt(row.preprocess_ms, 2)} | {fmt(row.inference_ms, 2)} "
            f"| {fmt(row.cpu_ms_per_image, 2)} |"
        )
    return lines


def _pipeline_table(pipelines: list[PipelineResult], kernel_of: KernelIndex) -> list[str]:
    lines = [
        "",
        "## Pipeline",
        "",
        "Real gateway and worker processes, RabbitMQ quorum queue, Redis, HTTP multipart uploads "
        "with an Auth Emulator token; each client uploads, then long-polls "
        "`GET /result/{id}?wait=30`, then uploads the next. Latency is from the start of the "
        "POST to the client holding the result. Stage columns are medians: upload = the POST "
        "round trip (auth, header check, pending marker, publish with confirm); queue = "
        "acceptance to a worker starting; store+notify = the worker's completion to the client "
        "holding the result (Redis SET + PUBLISH, the gateway's wake-up, the HTTP answer). CPU "
        "is % of one core over the run.",
        "",
        "| config | image | clients | img/s | vs kernel | p50 | p95 | p99 | upload | queue "
        "| preprocess | inference | store+notify | CPU gateway | CPU worker(s) | CPU broker "
        "| CPU redis | CPU client | CPU machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pipelines:
        k = kernel_of.get((_model_of(p), p.size_mp))
        ratio = f"{100 * p.images_per_s / k.images_per_s:.0f} %" if k else "-"
        lines.append(
            f"| {p.config} | {p.size_mp} MP | {p.clients} | {fmt(p.images_per_s)} | {ratio} "
            f"| {fmt(p.pct(50))} | {fmt(p.pct(95))} | {fmt(p.pct(99))} "
            f"| {fmt(p.median(lambda s: s.upload_ms))} | {fmt(p.median(lambda s: s.queued_ms))} "
            f"| {fmt(p.median(lambda s: s.preprocess_ms))} "
            f"| {fmt(p.median(lambda s: s.inference_ms))} "
            f"| {fmt(p.median(lambda s: s.after_ms))} "
            + " ".join(f"| {p.cpu.get(role, 0):.0f} %" for role in PIPELINE_CPU_ROLES)
            + " |"
        )
    return lines


def _cpu_cost_table(m: Measurements, kernel_of: KernelIndex) -> list[str]:
    lines = [
        "",
        "CPU per photo by process (CPU-ms per finished photo, from /proc/<pid>/stat before and "
        "after each run). model = decode + inference: the kernel's CPU per photo under the "
        "workers' settings (the defaults: the reference row of the same setting; the others: "
        "the 1-thread kernel); non-model = gateway + worker outside the model + broker + Redis. "
        "RabbitMQ and Redis are the machine's shared servers: their columns include whatever "
        "else used them meanwhile.",
        "",
        "| config | image | clients | gateway | worker | of it model | worker outside model "
        "| broker (beam.smp) | redis-server | **non-model** | client |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    worker_kernel = m.worker_kernel()
    for p in m.pipelines:
        k = kernel_of.get((_model_of(p), p.size_mp))
        if p.config == DEFAULTS and p.size_mp == 1.2 and worker_kernel is not None:
            k = worker_kernel
        if k is None:
            continue
        c = cpu_cost(p, k.cpu_ms_per_image)
        lines.append(
            f"| {p.config} | {p.size_mp} MP | {p.clients} | {fmt(c.gateway)} | {fmt(c.worker)} "
            f"| {fmt(c.model)} | {fmt(c.worker_outside_model)} | {fmt(c.broker)} "
            f"| {fmt(c.redis)} | **{fmt(c.non_model)}** | {fmt(c.client)} |"
        )
    return lines


def _rss_table(rss: dict[str, dict[str, float]]) -> list[str]:
    lines = ["", "Times in ms. Peak RSS (VmHWM) per configuration:", ""]
    lines += ["| config | gateway MB | worker MB |", "|---|---|---|"]
    for config, values in rss.items():
        lines.append(f"| {config} | {fmt(values['gateway'])} | {fmt(values['worker'])} |")
    return lines


def _session_options(
    sweep: list[tuple[str, float, float]], batches: list[tuple[int, float]]
) -> list[str]:
    return [
        "",
        "## onnxruntime session options",
        "",
        "Inference alone, fp32, batch 1, zeros input:",
        "",
        "| setting | img/s | p50 ms |",
        "|---|---|---|",
        *(f"| {label} | {fmt(ips)} | {fmt(ms, 2)} |" for label, ips, ms in sweep),
        "",
        "Inference alone, fp32, worker session options, by batch size (what micro-batching "
        "can gain at best):",
        "",
        "| batch | img/s |",
        "|---|---|",
        *(f"| {size} | {fmt(ips)} |" for size, ips in batches),
    ]


def _int8(agreement: tuple[int, int]) -> list[str]:
    agree, images = agreement
    return [
        "",
        "## int8",
        "",
        f"Top-1 agreement with fp32 on {images} held-out images (scikit-image photos and "
        f"crops never used for calibration): {agree}/{images} "
        f"({100 * agree / images:.1f} %).",
    ]

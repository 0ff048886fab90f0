"""docs/BENCHMARKS.md from one run's measurements: the tables, then the conclusions."""

from __future__ import annotations

import numpy as np

from tools.bench.conclusions import defaults_and_why, where_the_time_goes
from tools.bench.models import render_models
from tools.bench.results import KernelResult, Measurements, PipelineResult
from tools.bench.text import fmt

KernelIndex = dict[tuple[str, float], KernelResult]
PIPELINE_CPU_ROLES = ("gateway", "worker", "rabbitmq", "redis", "client", "machine")
CPU_COST_ROLES = ("worker", "gateway", "rabbitmq", "redis", "client")


def render(m: Measurements) -> str:
    kernel_of = m.kernel_of()
    lines = ["# Benchmarks", "", "Written by `make bench` (`python -m tools.bench`).", ""]
    lines += m.machine
    if m.note:
        lines += ["", f"**Note:** {m.note}"]
    lines += _targets(m, kernel_of)
    lines += _kernel_table(m.kernels)
    lines += _pipeline_table(m.pipelines, kernel_of)
    lines += _cpu_cost_table(m.pipelines, kernel_of)
    lines += where_the_time_goes(m.pipelines, kernel_of)
    lines += _rss_table(m.rss)
    lines += _session_options(m.sweep, m.batches)
    lines += _int8(m.agreement)
    lines += render_models(m.models)
    lines += defaults_and_why(kernel_of, m.pipelines, m.sweep, m.batches, m.agreement)
    return "\n".join(lines) + "\n"


def _model_of(pipeline: PipelineResult) -> str:
    return "int8" if pipeline.config.startswith("int8") else "fp32"


def _targets(m: Measurements, kernel_of: KernelIndex) -> list[str]:
    head = [p for p in m.pipelines if p.config == "fp32" and p.size_mp == 1.2]
    if not head:
        return []
    best = max(head, key=lambda p: p.images_per_s)
    base = kernel_of[("fp32", 1.2)]
    single = next((p for p in head if p.clients == 1), head[0])
    return [
        "",
        "## Targets",
        "",
        "| target | goal | measured |",
        "|---|---|---|",
        f"| pipeline / raw kernel img/s (fp32, 1.2 MP) | >= 85 % | "
        f"{100 * best.images_per_s / base.images_per_s:.0f} % "
        f"({fmt(best.images_per_s)} vs {fmt(base.images_per_s)} img/s, "
        f"{best.clients} clients) |",
        f"| p50 end to end, 1.2 MP, one client | <= 30 ms | {fmt(single.pct(50))} ms |",
        f"| POST while the workers are saturated (50 in a row) | fast | "
        f"p50 {fmt(float(np.percentile(m.blocks, 50)))} ms, "
        f"p99 {fmt(float(np.percentile(m.blocks, 99)))} ms |",
    ]


def _kernel_table(kernels: list[KernelResult]) -> list[str]:
    lines = [
        "",
        "## Raw kernel",
        "",
        "`Classifier.classify` (decode with JPEG draft mode, EXIF, resize, crop, normalise, "
        "inference, top-5) in a tight loop in one process, worker settings (1 intra-op thread).",
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


def _cpu_cost_table(pipelines: list[PipelineResult], kernel_of: KernelIndex) -> list[str]:
    lines = [
        "",
        "CPU cost per image (ms of CPU time per finished image; the kernel's own cost for "
        "comparison). With one worker the pipeline cannot beat the worker's column, and on a "
        "machine of N cores all the columns together share N x 1000 ms per second:",
        "",
        "| config | image | clients | kernel | worker(s) | gateway | broker | redis | client |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pipelines:
        k = kernel_of.get((_model_of(p), p.size_mp))
        done = len(p.samples) or 1
        lines.append(
            f"| {p.config} | {p.size_mp} MP | {p.clients} | "
            f"{fmt(k.cpu_ms_per_image) if k else '-'} "
            + " ".join(
                f"| {fmt(1000 * p.cpu_seconds.get(role, 0) / done)}" for role in CPU_COST_ROLES
            )
            + " |"
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

#!/usr/bin/env python3
"""Measure the raw model kernel and the whole pipeline side by side; write docs/BENCHMARKS.md.

    python scripts/bench.py [--vhost V] [--redis-db N] [--out docs/BENCHMARKS.md] [--quick]

Raw kernel: the worker's own decode + preprocess + inference code (``Classifier.classify``) in
a tight loop in this process, with the worker's thread settings. Pipeline: a real gateway and
real worker processes on the local RabbitMQ and Redis, real HTTP uploads with an Auth Emulator
token, the client waiting for each result with the long-poll ``GET /result/{id}?wait=``.
Benchmarks time things; tests never do.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

FP32 = REPO_ROOT / "build" / "model" / "efficientnet-lite0.onnx"
INT8 = REPO_ROOT / "build" / "model" / "efficientnet-lite0-int8.onnx"
SIZES_MP = (0.3, 1.2, 3.0)
PHOTOS = ("coffee.png", "chelsea.png", "astronaut.png")  # scikit-image sample photographs
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- inputs


def make_jpegs(megapixels: float) -> list[bytes]:
    """Real photographs scaled to ``megapixels`` (Lanczos), saved as quality-90 JPEGs."""
    from tools.model.photos import sample_photo

    jpegs = []
    for name in PHOTOS:
        photo = sample_photo(name)
        scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
        size = (round(photo.width * scale), round(photo.height * scale))
        buffer = io.BytesIO()
        photo.resize(size, Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=90)
        jpegs.append(buffer.getvalue())
    return jpegs


# --------------------------------------------------------------------------- process stats


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pids_named(*names: str) -> list[int]:
    """Pids of running programs by command name (the broker and Redis), readable or not."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


@dataclass
class CpuMeter:
    """CPU used by named processes (and the whole machine) over one measured interval."""

    pids: dict[str, list[int]]
    start: dict[str, float] = field(default_factory=dict)
    start_machine: tuple[float, float] = (0.0, 0.0)
    start_wall: float = 0.0

    def _sample(self) -> dict[str, float]:
        sample = {}
        for role, pids in self.pids.items():
            total = 0.0
            for pid in pids:
                try:
                    total += cpu_seconds(pid)
                except OSError:
                    continue
            sample[role] = total
        return sample

    def __enter__(self) -> CpuMeter:
        self.start = self._sample()
        self.start_machine = machine_busy_seconds()
        self.start_wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.start_wall
        end = self._sample()
        self.seconds = {r: end[r] - self.start[r] for r in end}
        self.percent = {r: 100 * used / wall for r, used in self.seconds.items()}
        busy, total = machine_busy_seconds()
        self.percent["machine"] = (
            100
            * (os.cpu_count() or 1)
            * (busy - self.start_machine[0])
            / (total - self.start_machine[1])
        )

    percent: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- raw kernel


@dataclass
class KernelResult:
    model: str
    size_mp: float
    images_per_s: float
    preprocess_ms: float
    inference_ms: float
    cpu_ms_per_image: float


def kernel(
    model_path: Path, jpegs: Sequence[bytes], threads: int, seconds: float, provider: str
) -> KernelResult:
    from config import ExecutionProvider
    from worker.inference.classifier import Classifier

    classifier = Classifier(
        model_path, intra_op_threads=threads, provider=ExecutionProvider(provider)
    )
    classifier.warm_up()
    for jpeg in jpegs:
        classifier.classify(jpeg)
    pre, inf = [], []
    count, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        result = classifier.classify(jpegs[count % len(jpegs)])
        pre.append(result.preprocess_ms)
        inf.append(result.inference_ms)
        count += 1
    elapsed = time.perf_counter() - started
    cpu_ms = (time.process_time() - cpu_started) * 1000 / count
    return KernelResult(
        "", 0.0, count / elapsed, statistics.median(pre), statistics.median(inf), cpu_ms
    )


def session_option_sweep(seconds: float) -> list[tuple[str, float, float]]:
    """Inference alone at batch 1: (setting, img/s, median ms) for threads x spinning."""
    rows = []
    batch = np.zeros((1, 3, 224, 224), dtype=np.float32)
    for threads in (1, 2):
        for spinning in ("0", "1"):
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
            session = ort.InferenceSession(
                str(FP32), sess_options=options, providers=["CPUExecutionProvider"]
            )
            session.run(None, {"input": batch})
            times = []
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                t0 = time.perf_counter()
                session.run(None, {"input": batch})
                times.append((time.perf_counter() - t0) * 1000)
            label = f"{threads} thread(s), spinning {'on' if spinning == '1' else 'off'}"
            rows.append(
                (label, len(times) / (time.perf_counter() - started), statistics.median(times))
            )
    return rows


def batch_sweep(seconds: float, provider: str) -> list[tuple[int, float]]:
    """Inference alone (fp32, worker session options): img/s at several batch sizes."""
    from config import ExecutionProvider
    from worker.inference.classifier import Classifier

    classifier = Classifier(FP32, intra_op_threads=1, provider=ExecutionProvider(provider))
    rows = []
    for size in (1, 8, 32):
        batch = np.zeros((size, 3, 224, 224), dtype=np.float32)
        classifier.infer(batch)
        images, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            classifier.infer(batch)
            images += size
        rows.append((size, images / (time.perf_counter() - started)))
    return rows


# --------------------------------------------------------------------------- pipeline


@dataclass
class Sample:
    upload_ms: float
    e2e_ms: float
    queued_ms: float
    preprocess_ms: float
    inference_ms: float
    after_ms: float  # from the worker's completed_at to the client holding the result


@dataclass
class PipelineResult:
    config: str
    size_mp: float
    clients: int
    images_per_s: float
    samples: list[Sample]
    cpu: dict[str, float]
    cpu_seconds: dict[str, float]

    def pct(self, q: float) -> float:
        return float(np.percentile([s.e2e_ms for s in self.samples], q))

    def median(self, pick: Callable[[Sample], float]) -> float:
        return statistics.median(pick(s) for s in self.samples)


async def one_request(client: httpx.AsyncClient, headers: dict[str, str], jpeg: bytes) -> Sample:
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


async def never_blocks(
    base_url: str, token: str, backlog: bytes, probe: bytes, queue: str
) -> list[float]:
    """50 uploads in a row while other clients keep the workers saturated: POST times (ms)."""
    from tools.devstack import queue_counts, wait_until

    headers = {"Authorization": f"Bearer {token}"}
    files = {"image": ("photo.jpg", backlog, "image/jpeg")}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        stop = asyncio.Event()

        async def flood() -> None:
            while not stop.is_set():
                (await client.post("/predict", headers=headers, files=files)).raise_for_status()

        flooders = [asyncio.create_task(flood()) for _ in range(4)]
        await asyncio.to_thread(  # the workers are behind: saturated
            wait_until, lambda: queue_counts(queue)[0] >= 20, timeout=120, what="a backlog"
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
        wait_until, lambda: queue_counts(queue)[0] == 0, timeout=300, what="the backlog to drain"
    )
    return times


@dataclass
class StackHandle:
    base_url: str
    queue: str
    pids: dict[str, list[int]]
    rss: Callable[[], dict[str, float]]


@contextmanager
def running_stack(log_dir: Path, workers: int, **env: str) -> Iterator[StackHandle]:
    from tools.devstack import Stack, delete_queue

    stack = Stack(queue=f"bench-{uuid.uuid4().hex[:8]}", log_dir=log_dir, env_overrides=env)
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
            "rabbitmq": pids_named("beam.smp"),
            "redis": pids_named("redis-server"),
            "client": [os.getpid()],
        }

        def rss() -> dict[str, float]:
            return {
                "gateway": peak_rss_mb(gateway),
                "worker": max(peak_rss_mb(p) for p in worker_pids),
            }

        yield StackHandle(stack.base_url, stack.queue, pids, rss)
    finally:
        stack.stop()
        delete_queue(stack.queue)


# --------------------------------------------------------------------------- report


def machine_description() -> list[str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    busy = os.getloadavg()[0] >= 0.5 * (os.cpu_count() or 1)
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {os.cpu_count()} x {cpu}; memory {mem_kb / 1024 / 1024:.1f} GiB",
        f"- OS: {platform.platform()}; Python {platform.python_version()}; "
        f"onnxruntime {ort.__version__} ({', '.join(ort.get_available_providers())})",
        f"- Load average when the run started: {load}"
        + (" (**the machine was already busy: expect noisy numbers**)" if busy else ""),
    ]


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def render(
    machine: list[str],
    kernels: list[KernelResult],
    pipelines: list[PipelineResult],
    sweep: list[tuple[str, float, float]],
    batches: list[tuple[int, float]],
    blocks: list[float],
    agreement: tuple[int, int],
    rss: dict[str, dict[str, float]],
    note: str,
) -> str:
    kernel_of = {(k.model, k.size_mp): k for k in kernels}
    lines = ["# Benchmarks", "", "Written by `make bench` (`scripts/bench.py`).", "", *machine]
    if note:
        lines += ["", f"**Note:** {note}"]

    head = [p for p in pipelines if p.config == "fp32" and p.size_mp == 1.2]
    if head:
        best = max(head, key=lambda p: p.images_per_s)
        base = kernel_of[("fp32", 1.2)]
        single = next((p for p in head if p.clients == 1), head[0])
        lines += [
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
            f"p50 {fmt(float(np.percentile(blocks, 50)))} ms, "
            f"p99 {fmt(float(np.percentile(blocks, 99)))} ms |",
        ]

    lines += [
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

    lines += [
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
        model = "int8" if p.config.startswith("int8") else "fp32"
        k = kernel_of.get((model, p.size_mp))
        ratio = f"{100 * p.images_per_s / k.images_per_s:.0f} %" if k else "-"
        lines.append(
            f"| {p.config} | {p.size_mp} MP | {p.clients} | {fmt(p.images_per_s)} | {ratio} "
            f"| {fmt(p.pct(50))} | {fmt(p.pct(95))} | {fmt(p.pct(99))} "
            f"| {fmt(p.median(lambda s: s.upload_ms))} | {fmt(p.median(lambda s: s.queued_ms))} "
            f"| {fmt(p.median(lambda s: s.preprocess_ms))} "
            f"| {fmt(p.median(lambda s: s.inference_ms))} "
            f"| {fmt(p.median(lambda s: s.after_ms))} "
            + " ".join(
                f"| {p.cpu.get(role, 0):.0f} %"
                for role in ("gateway", "worker", "rabbitmq", "redis", "client", "machine")
            )
            + " |"
        )
    lines += [
        "",
        "CPU cost per image (ms of CPU time per finished image; the kernel's own cost for "
        "comparison). With one worker the pipeline cannot beat the worker's column, and on a "
        "machine of N cores all the columns together share N x 1000 ms per second:",
        "",
        "| config | image | clients | kernel | worker(s) | gateway | broker | redis | client |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pipelines:
        model = "int8" if p.config.startswith("int8") else "fp32"
        k = kernel_of.get((model, p.size_mp))
        done = len(p.samples) or 1
        lines.append(
            f"| {p.config} | {p.size_mp} MP | {p.clients} | "
            f"{fmt(k.cpu_ms_per_image) if k else '-'} "
            + " ".join(
                f"| {fmt(1000 * p.cpu_seconds.get(role, 0) / done)}"
                for role in ("worker", "gateway", "rabbitmq", "redis", "client")
            )
            + " |"
        )
    lines += where_the_time_goes(pipelines, kernel_of)
    lines += ["", "Times in ms. Peak RSS (VmHWM) per configuration:", ""]
    lines += ["| config | gateway MB | worker MB |", "|---|---|---|"]
    for config, values in rss.items():
        lines.append(f"| {config} | {fmt(values['gateway'])} | {fmt(values['worker'])} |")

    lines += [
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
        "",
        "## int8",
        "",
        f"Top-1 agreement with fp32 on {agreement[1]} held-out images (scikit-image photos and "
        f"crops never used for calibration): {agreement[0]}/{agreement[1]} "
        f"({100 * agreement[0] / agreement[1]:.1f} %).",
    ]
    lines += defaults_and_why(kernel_of, pipelines, sweep, batches, agreement)
    return "\n".join(lines) + "\n"


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


# --------------------------------------------------------------------------- main


@dataclass(frozen=True)
class Plan:
    config: str
    workers: int
    env: dict[str, str]
    runs: tuple[tuple[float, int], ...]  # (megapixels, clients)


def plans(quick: bool) -> list[Plan]:
    fp32_runs = ((1.2, 1), (1.2, 2), (1.2, 4), (1.2, 8), (0.3, 4), (3.0, 4))
    batch = {"SNAPMATCH_WORKER_BATCH_MAX_SIZE": "8", "SNAPMATCH_WORKER_PREFETCH": "8"}
    all_plans = [
        Plan("fp32", 1, {}, fp32_runs),
        Plan("int8", 1, {"SNAPMATCH_MODEL_PATH": str(INT8)}, ((1.2, 1), (1.2, 4))),
        Plan("fp32 batch 8 / 5 ms", 1, batch, ((1.2, 1), (1.2, 8))),
        Plan(
            "fp32 1 worker x 2 threads", 1, {"SNAPMATCH_WORKER_INFERENCE_THREADS": "2"}, ((1.2, 4),)
        ),
        Plan("fp32 2 workers x 1 thread", 2, {}, ((1.2, 4),)),
        Plan("fp32 prefetch 1", 1, {"SNAPMATCH_WORKER_PREFETCH": "1"}, ((1.2, 4),)),
    ]
    return all_plans[:1] if quick else all_plans


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--vhost", default=os.environ.get("TEST_VHOST", "snapmatch-test"))
    parser.add_argument("--redis-db", default=os.environ.get("TEST_REDIS_DB", "1"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--seconds", type=float, default=6.0, help="per pipeline measurement")
    parser.add_argument("--quick", action="store_true", help="fp32 only, short runs")
    parser.add_argument("--note", default="", help="a sentence printed under the machine")
    parser.add_argument(
        "--provider", choices=("cpu", "cuda"), default="cpu", help="execution provider"
    )
    args = parser.parse_args(argv)
    os.environ["TEST_VHOST"], os.environ["TEST_REDIS_DB"] = args.vhost, str(args.redis_db)
    seconds = 2.0 if args.quick else args.seconds

    from tools.devstack.emulator import sign_up, unique_email
    from tools.model.quantize import top1_agreement

    for path in (FP32, INT8):
        if not path.is_file():
            say(f"{path} is missing: run `make model`")
            return 2
    machine = machine_description()
    say("making 0.3, 1.2 and 3 MP JPEGs from real photos")
    jpegs = {mp: make_jpegs(mp) for mp in SIZES_MP}

    kernels = []
    for model, path in (("fp32", FP32), ("int8", INT8)):
        for mp in SIZES_MP:
            say(f"raw kernel {model} {mp} MP ...")
            k = kernel(path, jpegs[mp], threads=1, seconds=seconds / 2, provider=args.provider)
            k.model, k.size_mp = model, mp
            kernels.append(k)
            say(f"  {k.images_per_s:.1f} img/s")
    say("session options sweep ...")
    sweep = session_option_sweep(1.0 if args.quick else 2.0)
    say("batch size sweep ...")
    batches = batch_sweep(1.0 if args.quick else 2.0, args.provider)
    say("int8 top-1 agreement on held-out photos ...")
    found = top1_agreement(FP32, INT8)
    agreement = (found.top1_agree, found.images)

    token = sign_up(unique_email("bench")).id_token
    pipelines: list[PipelineResult] = []
    rss: dict[str, dict[str, float]] = {}
    blocks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="snapmatch-bench-") as tmp:
        for plan in plans(args.quick):
            say(f"starting gateway + {plan.workers} worker(s): {plan.config}")
            env = plan.env | {"SNAPMATCH_WORKER_EXECUTION_PROVIDER": args.provider}
            with running_stack(Path(tmp), plan.workers, **env) as stack:
                for mp, clients in plan.runs:
                    say(f"  pipeline {plan.config} {mp} MP, {clients} client(s) ...")
                    with CpuMeter(stack.pids) as meter:
                        samples, ips = asyncio.run(
                            drive(stack.base_url, token, jpegs[mp], clients, seconds)
                        )
                    result = PipelineResult(
                        plan.config, mp, clients, ips, samples, meter.percent, meter.seconds
                    )
                    pipelines.append(result)
                    say(f"    {ips:.1f} img/s, p50 {result.pct(50):.1f} ms")
                if plan.config == "fp32":
                    say("  50 uploads in a row while the worker is saturated ...")
                    blocks = asyncio.run(
                        never_blocks(
                            stack.base_url, token, jpegs[3.0][0], jpegs[1.2][0], stack.queue
                        )
                    )
                    p50, p99 = np.percentile(blocks, [50, 99])
                    say(f"    POST p50 {p50:.1f} ms, p99 {p99:.1f} ms")
                rss[plan.config] = stack.rss()

    text = render(machine, kernels, pipelines, sweep, batches, blocks, agreement, rss, args.note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m tools.bench``: measure everything, print the report and write it to ``--out``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from config import machine
from tools.bench import storage
from tools.bench.ab import Side, compare, export_revision, measure_run
from tools.bench.inputs import SIZES_MP, make_jpegs
from tools.bench.kernel import batch_sweep, kernel, session_option_sweep
from tools.bench.models import measure_models, render_models, replace_section
from tools.bench.openloop import OpenLoopResult, open_loop
from tools.bench.pipeline import StackHandle, never_blocks, running_stack
from tools.bench.plans import Plan, plans
from tools.bench.plot import plot_open_loop
from tools.bench.report import render
from tools.bench.report_extra import ab_table
from tools.bench.results import DEFAULTS, KernelResult, Measurements, PipelineResult
from tools.bench.sections import keep_models_section, keep_page_section
from tools.bench.system import CpuMeter, machine_description
from tools.devstack import MODEL_DIR, REGISTRY, REPO_ROOT, TEST_SERVICES, Services, wait_until
from tools.devstack.emulator import sign_up, unique_email
from tools.devstack.services import local_redis_url
from tools.model.quantize import top1_agreement

FP32 = MODEL_DIR / "efficientnet-lite0.onnx"
INT8 = MODEL_DIR / "efficientnet-lite0-int8.onnx"
Jpegs = dict[float, list[bytes]]
OPEN_LOOP_LOADS = (0.5, 0.7, 0.9)
PLOT = "bench-open-loop.png"  # next to the report
_STARTED = time.monotonic()


def say(message: str) -> None:
    elapsed = int(time.monotonic() - _STARTED)
    print(
        f"[{time.strftime('%H:%M:%S')} +{elapsed // 60}:{elapsed % 60:02d}] {message}", flush=True
    )


def worker_setting(workers: int) -> tuple[int, bool]:
    """The onnxruntime threads and spinning of the default workers on this machine."""
    cores = machine.available_cores()
    threads = machine.default_inference_threads(cores)
    return threads, machine.default_spinning(cores, processes=workers, threads=threads)


def measure_reference(
    jpegs: list[bytes], seconds: float, provider: str, workers: int
) -> list[KernelResult]:
    """fp32 at 1.2 MP in one process under the settings worth trying here: one thread, the
    workers' setting, and every core with and without spinning."""
    cores = machine.available_cores()
    settings = {(1, False), worker_setting(workers), (cores, False), (cores, True)}
    rows = []
    for threads, spinning in sorted(settings):
        say(f"raw kernel fp32 1.2 MP, {threads} thread(s), spinning {spinning} ...")
        k = kernel(
            "fp32",
            FP32,
            1.2,
            jpegs,
            threads=threads,
            seconds=seconds,
            provider=provider,
            spinning=spinning,
        )
        rows.append(k)
        say(f"  {k.images_per_s:.1f} img/s, {k.cpu_ms_per_image:.1f} CPU-ms per photo")
    return rows


def measure_kernels(jpegs: Jpegs, *, seconds: float, provider: str) -> list[KernelResult]:
    kernels = []
    for model, path in (("fp32", FP32), ("int8", INT8)):
        for mp in SIZES_MP:
            say(f"raw kernel {model} {mp} MP ...")
            k = kernel(model, path, mp, jpegs[mp], threads=1, seconds=seconds, provider=provider)
            kernels.append(k)
            say(f"  {k.images_per_s:.1f} img/s")
    return kernels


def measure_plan(
    plan: Plan, stack: StackHandle, token: str, jpegs: Jpegs, seconds: float
) -> list[PipelineResult]:
    results = []
    for mp, clients in plan.runs:
        say(f"  pipeline {plan.config} {mp} MP, {clients} client(s) ...")
        result, _ = measure_run(plan.config, stack, token, jpegs[mp], clients, seconds)
        result = dataclasses.replace(result, size_mp=mp)
        results.append(result)
        say(f"    {result.images_per_s:.1f} img/s, p50 {result.pct(50):.1f} ms")
    return results


def measure_open_loop(
    stack: StackHandle, token: str, jpegs: list[bytes], capacity: float, seconds: float
) -> list[OpenLoopResult]:
    """Constant arrival rates at shares of ``capacity``; the queue drains between them."""
    results = []
    for load in OPEN_LOOP_LOADS:
        rate = load * capacity
        say(f"  open loop at {load:.0%} of {capacity:.1f} img/s: {rate:.1f} uploads/s ...")
        with CpuMeter(stack.pids) as meter:
            result = asyncio.run(
                open_loop(
                    stack.base_url,
                    token,
                    jpegs,
                    rate=rate,
                    seconds=seconds,
                    load=load,
                    progress=say,
                )
            )
        result = dataclasses.replace(result, cpu=meter.percent)
        results.append(result)
        say(
            f"    p50 {result.pct(50):.1f}, p95 {result.pct(95):.1f}, p99 {result.pct(99):.1f} ms,"
            f" {result.refused} of {result.sent} refused (503); CPU % client "
            f"{meter.percent.get('client', 0):.0f}, machine {meter.percent.get('machine', 0):.0f}"
        )
        # Arrivals given up on may still be queued: the next rate starts on an empty queue.
        wait_until(lambda: stack.backlog() == 0, timeout=300, what="the backlog to drain")
    return results


@dataclasses.dataclass
class PipelineRun:
    pipelines: list[PipelineResult] = dataclasses.field(default_factory=list)
    rss: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    blocks: list[float] = dataclasses.field(default_factory=list)  # POST ms, workers saturated
    open_loop: list[OpenLoopResult] = dataclasses.field(default_factory=list)
    capacity: float = 0.0
    ab: list[tuple[PipelineResult, PipelineResult]] = dataclasses.field(default_factory=list)


def measure_pipelines(
    args: argparse.Namespace, services: Services, jpegs: Jpegs, seconds: float
) -> PipelineRun:
    """Every plan; on the defaults also the open loop and uploads while saturated."""
    token = sign_up(unique_email("bench")).id_token
    run = PipelineRun()
    provider = {"SNAPMATCH_WORKER_EXECUTION_PROVIDER": args.provider}
    with tempfile.TemporaryDirectory(prefix="snapmatch-bench-") as tmp:
        for plan in plans(quick=args.quick, cores=machine.available_cores()):
            say(f"starting gateway + {plan.workers} worker(s): {plan.config}")
            with running_stack(Path(tmp), plan.workers, services, plan.env | provider) as stack:
                run.pipelines += measure_plan(plan, stack, token, jpegs, seconds)
                if plan.config == DEFAULTS:
                    run.capacity = max(p.images_per_s for p in run.pipelines if p.size_mp == 1.2)
                    run.open_loop = measure_open_loop(
                        stack, token, jpegs[1.2], run.capacity, args.open_loop_seconds
                    )
                    say("  50 uploads in a row while the workers are saturated ...")
                    run.blocks = asyncio.run(
                        never_blocks(stack, token, jpegs[3.0][0], jpegs[1.2][0])
                    )
                    p50, p99 = np.percentile(run.blocks, [50, 99])
                    say(f"    POST p50 {p50:.1f} ms, p99 {p99:.1f} ms")
                run.rss[plan.config] = stack.rss()
        if args.baseline:
            run.ab = measure_ab(args, services, jpegs, token, Path(tmp), provider)
    return run


def measure_ab(
    args: argparse.Namespace,
    services: Services,
    jpegs: Jpegs,
    token: str,
    tmp: Path,
    env: dict[str, str],
) -> list[tuple[PipelineResult, PipelineResult]]:
    """This checkout against ``--baseline``, both on this machine's default workers."""
    workers = machine.default_worker_processes(machine.available_cores())
    threads, spinning = worker_setting(workers)
    # The baseline may predate these defaults: give it the same workers explicitly.
    env = env | {
        "SNAPMATCH_WORKER_INFERENCE_THREADS": str(threads),
        "SNAPMATCH_WORKER_INFERENCE_SPINNING": str(spinning).lower(),
    }
    root = export_revision(args.baseline, tmp / "baseline")
    candidate = REPO_ROOT
    if args.candidate:
        candidate = export_revision(args.candidate, tmp / "candidate")
    say(f"A/B: {args.baseline} against this checkout, {workers} worker(s) each ...")
    with (
        running_stack(tmp, workers, services, env, root=root) as base,
        running_stack(tmp, workers, services, env, root=candidate) as this,
    ):
        return compare(
            Side(f"{args.baseline}", base),
            Side(args.candidate or "this checkout", this),
            token,
            jpegs,
            ((1.2, 1), (1.2, 4)),
            rounds=args.ab_rounds,
            seconds=seconds_for_ab(args),
            say=say,
        )


def seconds_for_ab(args: argparse.Namespace) -> float:
    """Short turns, more of them: a busy machine's swings then fall on both sides alike."""
    return 2.0 if args.quick else 3.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Measure the raw model kernel and the whole pipeline side by side.",
    )
    parser.add_argument("--vhost", default=TEST_SERVICES.vhost)
    parser.add_argument("--redis-db", default=os.environ.get("TEST_REDIS_DB", "1"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--seconds", type=float, default=5.0, help="per pipeline measurement")
    parser.add_argument("--quick", action="store_true", help="fp32 only, short runs")
    parser.add_argument("--note", default="", help="a sentence printed under the machine")
    parser.add_argument(
        "--provider", choices=("cpu", "cuda"), default="cpu", help="execution provider"
    )
    parser.add_argument(
        "--open-loop-seconds", type=float, default=8.0, help="arrivals per open-loop rate"
    )
    parser.add_argument(
        "--baseline",
        metavar="REVISION",
        help="also measure this git revision against the checkout, side by side (A/B)",
    )
    parser.add_argument(
        "--candidate",
        metavar="REVISION",
        help="with --baseline: measure this revision instead of the checkout",
    )
    parser.add_argument("--ab-rounds", type=int, default=4, help="A/B turns per side")
    parser.add_argument(
        "--models",
        action="store_true",
        help="measure the models section too (about a minute more; `--only models` measures "
        "it alone); without it the section of --out is kept",
    )
    parser.add_argument(
        "--only",
        choices=("models", "storage", "ab"),
        help="measure only this part: `models` and `storage` replace their sections of --out, "
        "keeping the rest; `ab` (with --baseline) prints the A/B table and writes nothing",
    )
    return parser.parse_args(argv)


def models_only(args: argparse.Namespace, services: Services) -> int:
    """``--only models``: the Models section of ``--out`` from one run, the rest untouched."""
    description = machine_description()
    say("models: held-out agreement, a cache miss through the pipeline, one probe per model ...")
    token = sign_up(unique_email("bench")).id_token
    results = measure_models(REGISTRY, services, token, seconds=2.0 if args.quick else 4.0)
    note = "Measured on its own by `make bench BENCH_ARGS='--only models'`: " + "; ".join(
        line.removeprefix("- ") for line in description if "Date" in line or "Load" in line
    )
    section = render_models(results, note)
    document = args.out.read_text() if args.out.is_file() else "# Benchmarks\n"
    args.out.write_text(replace_section(document, section))
    print("\n".join(section))
    say(f"updated the models section of {args.out}")
    return 0


def ab_only(args: argparse.Namespace, services: Services) -> int:
    """``--only ab``: this checkout against ``--baseline``, printed, nothing written."""
    if not args.baseline:
        say("--only ab needs --baseline REVISION")
        return 2
    say(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    jpegs = {1.2: make_jpegs(1.2)}
    token = sign_up(unique_email("bench")).id_token
    provider = {"SNAPMATCH_WORKER_EXECUTION_PROVIDER": args.provider}
    reference = measure_reference(jpegs[1.2], 2.0, args.provider, _default_workers())
    threads, spinning = worker_setting(_default_workers())
    with tempfile.TemporaryDirectory(prefix="snapmatch-bench-") as tmp:
        pairs = measure_ab(args, services, jpegs, token, Path(tmp), provider)
    m = Measurements(
        machine=[],
        kernels=[],
        pipelines=[],
        sweep=[],
        batches=[],
        blocks=[],
        agreement=(0, 0),
        rss={},
        reference=reference,
        worker_setting=f"{threads} thread(s), spinning {'on' if spinning else 'off'}",
        ab=pairs,
    )
    print("\n".join(ab_table(m)))
    say(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _default_workers() -> int:
    return machine.default_worker_processes(machine.available_cores())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    services = dataclasses.replace(
        TEST_SERVICES, vhost=args.vhost, redis_url=local_redis_url(args.redis_db)
    )
    if args.only == "models":
        return models_only(args, services)
    if args.only == "storage":
        return storage.main(
            ["--vhost", args.vhost, "--redis-db", args.redis_db, "--out", str(args.out)]
        )
    if args.only == "ab":
        return ab_only(args, services)
    seconds = 2.0 if args.quick else args.seconds
    sweep_seconds = 1.0 if args.quick else 2.0
    for path in (FP32, INT8):
        if not path.is_file():
            say(f"{path} is missing: run `make model`")
            return 2
    description = machine_description()
    say("making 0.3, 1.2 and 3 MP JPEGs from real photos")
    jpegs = {mp: make_jpegs(mp) for mp in SIZES_MP}
    kernels = measure_kernels(jpegs, seconds=seconds / 4, provider=args.provider)
    workers = machine.default_worker_processes(machine.available_cores())
    reference = measure_reference(jpegs[1.2], seconds / 2, args.provider, workers)
    threads, spinning = worker_setting(workers)
    say("session options sweep ...")
    sweep = session_option_sweep(FP32, sweep_seconds)
    say("batch size sweep ...")
    batches = batch_sweep(FP32, sweep_seconds, args.provider)
    say("int8 top-1 agreement on held-out photos ...")
    found = top1_agreement(FP32, INT8)
    run = measure_pipelines(args, services, jpegs, seconds)
    models = []
    if args.models:
        say(
            "models: held-out agreement, a cache miss through the pipeline, one probe per model ..."
        )
        token = sign_up(unique_email("bench")).id_token
        models = measure_models(REGISTRY, services, token, seconds=seconds / 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot = args.out.parent / PLOT
    plotted = plot_open_loop(
        run.open_loop,
        plot,
        f"open loop, 1.2 MP JPEG, defaults ({workers} "
        f"worker(s) x {threads} thread(s)), {os.getloadavg()[0]:.1f} load",
    )
    if not plotted:
        say("no plot: matplotlib is missing (pip install -e '.[bench]')")
    text = render(
        Measurements(
            machine=description,
            kernels=kernels,
            pipelines=run.pipelines,
            sweep=sweep,
            batches=batches,
            blocks=run.blocks,
            agreement=(found.top1_agree, found.images),
            rss=run.rss,
            models=models,
            note=args.note,
            reference=reference,
            worker_setting=f"{threads} thread(s), spinning {'on' if spinning else 'off'}",
            open_loop=run.open_loop,
            capacity=run.capacity,
            plot=PLOT if plotted else "",
            ab=run.ab,
        )
    )
    if not args.models:
        text = keep_models_section(args.out, text)
    args.out.write_text(keep_page_section(args.out, text))
    print(text)
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

from tools.bench import storage
from tools.bench.inputs import SIZES_MP, make_jpegs
from tools.bench.kernel import batch_sweep, kernel, session_option_sweep
from tools.bench.models import measure_models, render_models, replace_section
from tools.bench.pipeline import StackHandle, drive, never_blocks, running_stack
from tools.bench.plans import Plan, plans
from tools.bench.report import render
from tools.bench.results import KernelResult, Measurements, PipelineResult
from tools.bench.sections import keep_page_section
from tools.bench.system import CpuMeter, machine_description
from tools.devstack import MODEL_DIR, REGISTRY, REPO_ROOT, TEST_SERVICES, Services
from tools.devstack.emulator import sign_up, unique_email
from tools.devstack.services import local_redis_url
from tools.model.quantize import top1_agreement

FP32 = MODEL_DIR / "efficientnet-lite0.onnx"
INT8 = MODEL_DIR / "efficientnet-lite0-int8.onnx"
Jpegs = dict[float, list[bytes]]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


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
        with CpuMeter(stack.pids) as meter:
            samples, ips = asyncio.run(drive(stack.base_url, token, jpegs[mp], clients, seconds))
        result = PipelineResult(
            plan.config, mp, clients, ips, samples, meter.percent, meter.seconds
        )
        results.append(result)
        say(f"    {ips:.1f} img/s, p50 {result.pct(50):.1f} ms")
    return results


def measure_pipelines(
    args: argparse.Namespace, services: Services, jpegs: Jpegs, seconds: float
) -> tuple[list[PipelineResult], dict[str, dict[str, float]], list[float]]:
    """(every pipeline run, peak RSS by config, POST times while the workers are saturated)."""
    token = sign_up(unique_email("bench")).id_token
    pipelines: list[PipelineResult] = []
    rss: dict[str, dict[str, float]] = {}
    blocks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="snapmatch-bench-") as tmp:
        for plan in plans(quick=args.quick):
            say(f"starting gateway + {plan.workers} worker(s): {plan.config}")
            env = plan.env | {"SNAPMATCH_WORKER_EXECUTION_PROVIDER": args.provider}
            with running_stack(Path(tmp), plan.workers, services, **env) as stack:
                pipelines += measure_plan(plan, stack, token, jpegs, seconds)
                if plan.config == "fp32":
                    say("  50 uploads in a row while the worker is saturated ...")
                    blocks = asyncio.run(never_blocks(stack, token, jpegs[3.0][0], jpegs[1.2][0]))
                    p50, p99 = np.percentile(blocks, [50, 99])
                    say(f"    POST p50 {p50:.1f} ms, p99 {p99:.1f} ms")
                rss[plan.config] = stack.rss()
    return pipelines, rss, blocks


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Measure the raw model kernel and the whole pipeline side by side.",
    )
    parser.add_argument("--vhost", default=TEST_SERVICES.vhost)
    parser.add_argument("--redis-db", default=os.environ.get("TEST_REDIS_DB", "1"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--seconds", type=float, default=6.0, help="per pipeline measurement")
    parser.add_argument("--quick", action="store_true", help="fp32 only, short runs")
    parser.add_argument("--note", default="", help="a sentence printed under the machine")
    parser.add_argument(
        "--provider", choices=("cpu", "cuda"), default="cpu", help="execution provider"
    )
    parser.add_argument(
        "--only",
        choices=("models", "storage"),
        help="measure only this part and replace its section of --out, keeping the rest",
    )
    return parser.parse_args(argv)


def models_only(args: argparse.Namespace, services: Services) -> int:
    """``--only models``: the Models section of ``--out`` from one run, the rest untouched."""
    machine = machine_description()
    say("models: held-out agreement, a cache miss through the pipeline, one probe per model ...")
    token = sign_up(unique_email("bench")).id_token
    results = measure_models(REGISTRY, services, token, seconds=2.0 if args.quick else 4.0)
    note = "Measured on its own by `make bench BENCH_ARGS='--only models'`: " + "; ".join(
        line.removeprefix("- ") for line in machine if "Date" in line or "Load" in line
    )
    section = render_models(results, note)
    document = args.out.read_text() if args.out.is_file() else "# Benchmarks\n"
    args.out.write_text(replace_section(document, section))
    print("\n".join(section))
    say(f"updated the models section of {args.out}")
    return 0


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
    seconds = 2.0 if args.quick else args.seconds
    sweep_seconds = 1.0 if args.quick else 2.0
    for path in (FP32, INT8):
        if not path.is_file():
            say(f"{path} is missing: run `make model`")
            return 2
    machine = machine_description()
    say("making 0.3, 1.2 and 3 MP JPEGs from real photos")
    jpegs = {mp: make_jpegs(mp) for mp in SIZES_MP}
    kernels = measure_kernels(jpegs, seconds=seconds / 2, provider=args.provider)
    say("session options sweep ...")
    sweep = session_option_sweep(FP32, sweep_seconds)
    say("batch size sweep ...")
    batches = batch_sweep(FP32, sweep_seconds, args.provider)
    say("int8 top-1 agreement on held-out photos ...")
    found = top1_agreement(FP32, INT8)
    pipelines, rss, blocks = measure_pipelines(args, services, jpegs, seconds)
    say("models: held-out agreement, a cache miss through the pipeline, one probe per model ...")
    token = sign_up(unique_email("bench")).id_token
    models = measure_models(REGISTRY, services, token, seconds=seconds / 3)
    text = render(
        Measurements(
            machine=machine,
            kernels=kernels,
            pipelines=pipelines,
            sweep=sweep,
            batches=batches,
            blocks=blocks,
            agreement=(found.top1_agree, found.images),
            rss=rss,
            models=models,
            note=args.note,
        )
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(keep_page_section(args.out, text))
    print(text)
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each served model side by side: speed, memory, load time, agreement with fp32 Lite0, and
what a task pays when its model is not loaded yet (a cache miss), through the real system."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from contracts.model_registry import Manifest, model_file, read_manifest
from tools.bench.inputs import make_jpegs
from tools.bench.pipeline import running_stack
from tools.bench.results import ModelResult
from tools.bench.text import fmt
from tools.devstack import REPO_ROOT, Services
from tools.model.quantize import holdout_top1

REFERENCE = "efficientnet-lite0"


def probe(registry: Path, name: str, seconds: float) -> dict[str, float]:
    """Run :mod:`tools.bench.model_probe` for ``name`` in a process of its own."""
    completed = subprocess.run(  # noqa: S603 - this interpreter and a module of ours
        [
            sys.executable,
            "-m",
            "tools.bench.model_probe",
            str(registry),
            name,
            "--seconds",
            str(seconds),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _task(
    client: httpx.Client, headers: dict[str, str], jpeg: bytes, model: str
) -> tuple[float, float]:
    """One upload naming ``model``, long-polled: (end to end ms, model_load_ms)."""
    started = time.perf_counter()
    response = client.post(
        "/predict",
        headers=headers,
        files={"image": ("photo.jpg", jpeg, "image/jpeg")},
        data={"model": model},
    )
    response.raise_for_status()
    task_id = response.json()["task_id"]
    while (
        result := client.get(f"/result/{task_id}", params={"wait": 30}, headers=headers)
    ).status_code != 200:
        if result.json().get("status") != "pending":
            raise RuntimeError(f"unexpected answer {result.status_code}: {result.text}")
    body = result.json()
    if body["status"] != "done":
        raise RuntimeError(f"task failed: {body}")
    return (time.perf_counter() - started) * 1000, body["timings"]["model_load_ms"]


def cache_misses(
    manifest: Manifest, services: Services, token: str, log_dir: Path
) -> dict[str, tuple[float, float, float]]:
    """For each model but the (preloaded) default: (miss ms, of it load ms, hit ms), one worker
    with the default cache size."""
    headers = {"Authorization": f"Bearer {token}"}
    jpeg = make_jpegs(1.2)[1]
    found = {}
    with (
        running_stack(log_dir, 1, services) as stack,
        httpx.Client(base_url=stack.base_url, timeout=60) as client,
    ):
        _task(client, headers, jpeg, manifest.default)  # connections and caches warm
        for name in manifest.models:
            if name == manifest.default:
                continue
            miss, load = _task(client, headers, jpeg, name)
            hit, _ = _task(client, headers, jpeg, name)
            found[name] = (miss, load, hit)
    return found


def measure_models(
    registry: Path, services: Services, token: str, *, seconds: float
) -> list[ModelResult]:
    manifest = read_manifest(registry)
    picks = {}
    for name, entry in manifest.models.items():
        picks[name] = holdout_top1(model_file(registry, entry).read_bytes(), entry)
    reference = picks[REFERENCE]
    with tempfile.TemporaryDirectory(prefix="snapmatch-bench-models-") as tmp:
        misses = cache_misses(manifest, services, token, Path(tmp))
    results = []
    for name, entry in manifest.models.items():
        measured = probe(registry, name, seconds)
        miss = misses.get(name, (float("nan"),) * 3)
        results.append(
            ModelResult(
                name=name,
                precision=entry.precision,
                input_size=entry.input_size,
                size_mb=entry.size_bytes / 1e6,
                load_s=measured["load_s"],
                rss_mb=measured["rss_mb"],
                first_rss_mb=measured["first_rss_mb"],
                inference_ms=measured["inference_ms"],
                images_per_s=measured["images_per_s"],
                agree=int((picks[name] == reference).sum()),
                images=len(reference),
                miss_ms=miss[0],
                miss_load_ms=miss[1],
                hit_ms=miss[2],
            )
        )
    return results


SECTION = "## Models"


def render_models(results: list[ModelResult], note: str = "") -> list[str]:
    if not results:
        return []
    lines = ["", SECTION, ""]
    if note:
        lines += [note, ""]
    lines += [
        "Every model of the registry, each in a process of its own with the worker's settings "
        "(1 intra-op thread): load = read, check the SHA-256, create the onnxruntime session "
        "and warm up (a cache miss in a running worker); memory = resident memory one more "
        "loaded model adds (the first model of a process adds onnxruntime's start-up too: "
        "first); inference p50 at batch 1; kernel = the worker's whole classify on 1.2 MP "
        "JPEGs; agreement = same top-1 as fp32 Lite0 on the held-out photos and crops (for int8 "
        "variants a measure of quantization loss; between different architectures it measures "
        "difference, not accuracy).",
        "",
        "| model | precision | input | file MB | load s | memory MB (first) | inference p50 ms "
        "| kernel img/s | top-1 = Lite0 fp32 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.precision} | {r.input_size} | {fmt(r.size_mb)} | {fmt(r.load_s, 2)} "
            f"| {fmt(r.rss_mb)} ({fmt(r.first_rss_mb)}) | {fmt(r.inference_ms, 2)} "
            f"| {fmt(r.images_per_s)} | {r.agree}/{r.images} |"
        )
    lines += [
        "",
        "A cache miss through the pipeline (one worker, the default model preloaded, the "
        "default cache size; 1.2 MP JPEG, upload to result by long-poll): the first task on a "
        "model waits for its load (`timings.model_load_ms`), the next one does not.",
        "",
        "| model | first task ms | of it loading ms | next task ms |",
        "|---|---|---|---|",
    ]
    for r in results:
        if r.miss_ms == r.miss_ms:  # not NaN: the default model is preloaded, never missed
            lines.append(
                f"| {r.name} | {fmt(r.miss_ms)} | {fmt(r.miss_load_ms)} | {fmt(r.hit_ms)} |"
            )
    return lines


def replace_section(document: str, section: list[str]) -> str:
    """``document`` with its ``## Models`` section replaced by ``section`` (or appended)."""
    start = document.find(f"\n{SECTION}\n")
    if start == -1:
        return document.rstrip("\n") + "\n" + "\n".join(section) + "\n"
    end = document.find("\n## ", start + len(SECTION) + 2)
    tail = document[end:] if end != -1 else ""
    return document[:start] + "\n".join(section) + "\n" + tail

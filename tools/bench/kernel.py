"""The model without the system around it: the worker's own code in a tight loop, in-process."""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from config import ExecutionProvider
from contracts.model_files import ModelCard
from tools.bench.results import KernelResult
from worker.inference.classifier import Classifier


def kernel(
    model: str,
    model_path: Path,
    size_mp: float,
    jpegs: Sequence[bytes],
    *,
    threads: int,
    seconds: float,
    provider: str,
    spinning: bool = False,
) -> KernelResult:
    """``Classifier.classify`` (decode, preprocess, inference, top-k) over ``jpegs`` in a loop."""
    classifier = Classifier.from_file(
        model_path,
        intra_op_threads=threads,
        spinning=spinning,
        provider=ExecutionProvider(provider),
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
        model,
        size_mp,
        count / elapsed,
        statistics.median(pre),
        statistics.median(inf),
        cpu_ms,
        setting=f"{threads} thread(s), spinning {'on' if spinning else 'off'}",
    )


def zeros(card: ModelCard, batch: int) -> np.ndarray:
    """A batch of inputs of the model's own size."""
    return np.zeros((batch, 3, card.input_size, card.input_size), dtype=np.float32)


def _timed_runs(run: Callable[[], object], seconds: float) -> tuple[float, list[float]]:
    """Call ``run`` for ``seconds``: (calls per second, each call's ms)."""
    times = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return len(times) / (time.perf_counter() - started), times


def session_option_sweep(model_path: Path, seconds: float) -> list[tuple[str, float, float]]:
    """Inference alone at batch 1: (setting, img/s, median ms) for threads x spinning."""
    rows = []
    card = ModelCard.load(model_path)
    feed = {card.input: zeros(card, 1)}
    for threads in (1, 2):
        for spinning in ("0", "1"):
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
            session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            session.run(None, feed)
            rate, times = _timed_runs(functools.partial(session.run, None, feed), seconds)
            label = f"{threads} thread(s), spinning {'on' if spinning == '1' else 'off'}"
            rows.append((label, rate, statistics.median(times)))
    return rows


def batch_sweep(model_path: Path, seconds: float, provider: str) -> list[tuple[int, float]]:
    """Inference alone (worker session options): img/s at several batch sizes."""
    classifier = Classifier.from_file(
        model_path, intra_op_threads=1, provider=ExecutionProvider(provider)
    )
    rows = []
    for size in (1, 8, 32):
        batch = zeros(classifier.card, size)
        classifier.infer(batch)
        images, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            classifier.infer(batch)
            images += size
        rows.append((size, images / (time.perf_counter() - started)))
    return rows

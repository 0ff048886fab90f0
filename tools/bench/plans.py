"""The pipeline configurations one benchmark run compares: first the defaults `make run` gives
on this machine (the targets are judged on them), then the alternatives they were chosen over."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.machine import default_worker_processes
from tools.bench.results import DEFAULTS

THREADS = "SNAPMATCH_WORKER_INFERENCE_THREADS"


@dataclass(frozen=True)
class Plan:
    config: str  # the name in the report's tables
    workers: int
    env: dict[str, str]  # SNAPMATCH_* settings of the gateway and workers beyond the defaults
    runs: tuple[tuple[float, int], ...]  # (megapixels, clients)
    root: Path | None = field(default=None)  # another checkout's code (None: this one)


def plans(*, quick: bool, cores: int) -> list[Plan]:
    """Every configuration, or only the defaults (fewer runs) when ``quick``."""
    workers = default_worker_processes(cores)
    if quick:
        return [Plan(DEFAULTS, workers, {}, ((1.2, 1), (1.2, 4)))]
    batch = {"SNAPMATCH_WORKER_BATCH_MAX_SIZE": "8", "SNAPMATCH_WORKER_PREFETCH": "8"}
    return [
        Plan(DEFAULTS, workers, {}, ((1.2, 1), (1.2, 2), (1.2, 4), (1.2, 8), (0.3, 4), (3.0, 4))),
        Plan(f"{workers} worker(s) x 1 thread", workers, {THREADS: "1"}, ((1.2, 1), (1.2, 4))),
        Plan("1 worker x 1 thread", 1, {THREADS: "1"}, ((1.2, 1), (1.2, 4))),
        Plan(
            "int8",
            workers,
            {"SNAPMATCH_DEFAULT_MODEL": "efficientnet-lite0-int8"},
            ((1.2, 1), (1.2, 4)),
        ),
        Plan("batch 8 / 5 ms", workers, batch, ((1.2, 8),)),
        Plan("prefetch 1", workers, {"SNAPMATCH_WORKER_PREFETCH": "1"}, ((1.2, 4),)),
    ]

"""The pipeline configurations one benchmark run compares."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    config: str  # the name in the report's tables; the defaults are "fp32"
    workers: int
    env: dict[str, str]  # SNAPMATCH_* settings of the gateway and workers
    runs: tuple[tuple[float, int], ...]  # (megapixels, clients)


def plans(*, quick: bool) -> list[Plan]:
    """Every configuration, or only the defaults when ``quick``."""
    fp32_runs = ((1.2, 1), (1.2, 2), (1.2, 4), (1.2, 8), (0.3, 4), (3.0, 4))
    batch = {"SNAPMATCH_WORKER_BATCH_MAX_SIZE": "8", "SNAPMATCH_WORKER_PREFETCH": "8"}
    all_plans = [
        Plan("fp32", 1, {}, fp32_runs),
        Plan(
            "int8", 1, {"SNAPMATCH_DEFAULT_MODEL": "efficientnet-lite0-int8"}, ((1.2, 1), (1.2, 4))
        ),
        Plan("fp32 batch 8 / 5 ms", 1, batch, ((1.2, 1), (1.2, 8))),
        Plan(
            "fp32 1 worker x 2 threads", 1, {"SNAPMATCH_WORKER_INFERENCE_THREADS": "2"}, ((1.2, 4),)
        ),
        Plan("fp32 2 workers x 1 thread", 2, {}, ((1.2, 4),)),
        Plan("fp32 prefetch 1", 1, {"SNAPMATCH_WORKER_PREFETCH": "1"}, ((1.2, 4),)),
    ]
    return all_plans[:1] if quick else all_plans

"""Worker defaults sized to the cores this process may run on.

A fixed "one worker, one thread" leaves most of a bigger machine idle and still fights the
gateway and the broker on a small one. ``Settings`` falls back to this plan when
``SNAPMATCH_WORKER_PROCESSES``, ``SNAPMATCH_WORKER_INFERENCE_THREADS`` or
``SNAPMATCH_WORKER_INFERENCE_SPINNING`` is not set, and ``make run`` starts
``worker_processes`` workers. The measurements behind the rule are in
docs/BENCHMARKS.md ("Defaults and why").
"""

from __future__ import annotations

import os

# Cores left to the gateway, RabbitMQ and Redis before idle intra-op threads may spin.
SPARE_CORES_FOR_SPINNING = 2


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity (which containers and ``taskset``
    narrow), not merely the cores the machine has."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_worker_processes(cores: int) -> int:
    """One worker per core: each decodes its own photos and runs its own model calls, so every
    core has a photo to work on under load, and a crash takes only one worker's tasks."""
    return max(1, cores)


def default_inference_threads(cores: int) -> int:
    """Two intra-op threads (one on a single core): a lone photo on an idle host runs its model
    on two cores and comes back sooner; under load each worker's second thread mostly sleeps."""
    return min(2, max(1, cores))


def default_spinning(cores: int, *, processes: int, threads: int) -> bool:
    """Spin only when every worker's threads have cores of their own and cores remain for the
    gateway, the broker and Redis; a spinning thread on a shared core steals that core."""
    return cores >= processes * threads + SPARE_CORES_FOR_SPINNING

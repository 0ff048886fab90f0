"""A/B: this checkout against another revision, both stacks up at once and measured in turns
(A B, then B A, ...), so that a noisy machine weighs on both sides alike."""

from __future__ import annotations

import asyncio
import io
import subprocess
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.bench.pipeline import StackHandle, drive
from tools.bench.results import PipelineResult
from tools.bench.system import CpuMeter
from tools.devstack import REPO_ROOT


def export_revision(revision: str, dest: Path) -> Path:
    """The files of ``revision`` (any git revision) under ``dest``, sharing this checkout's
    built models and web page."""
    archive = subprocess.run(  # noqa: S603 - git, a revision the user named
        ["git", "archive", "--format=tar", revision],  # noqa: S607
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    (dest / "build").symlink_to(REPO_ROOT / "build")
    return dest


def measure_run(
    config: str,
    stack: StackHandle,
    token: str,
    jpegs: Sequence[bytes],
    clients: int,
    seconds: float,
) -> tuple[PipelineResult, float]:
    """One closed-loop run: its result and its wall time."""
    with CpuMeter(stack.pids) as meter:
        samples, ips = asyncio.run(drive(stack.base_url, token, jpegs, clients, seconds))
    size_mp = 0.0  # filled in by the caller, who knows the photo
    result = PipelineResult(config, size_mp, clients, ips, samples, meter.percent, meter.seconds)
    return result, len(samples) / ips if ips else seconds


def merge(parts: Sequence[tuple[PipelineResult, float]], size_mp: float) -> PipelineResult:
    """Several runs of one configuration as one: every sample, CPU summed, rate over all."""
    first = parts[0][0]
    wall = sum(w for _, w in parts)
    samples = [s for r, _ in parts for s in r.samples]
    roles = {role for r, _ in parts for role in r.cpu_seconds}
    cpu_seconds = {role: sum(r.cpu_seconds.get(role, 0.0) for r, _ in parts) for role in roles}
    return PipelineResult(
        first.config,
        size_mp,
        first.clients,
        len(samples) / wall if wall else 0.0,
        samples,
        {role: 100 * used / wall for role, used in cpu_seconds.items()} if wall else {},
        cpu_seconds,
    )


@dataclass(frozen=True)
class Side:
    name: str
    stack: StackHandle


def compare(
    a: Side,
    b: Side,
    token: str,
    jpegs: dict[float, list[bytes]],
    runs: Sequence[tuple[float, int]],
    *,
    rounds: int,
    seconds: float,
    say: Callable[[str], None],
) -> list[tuple[PipelineResult, PipelineResult]]:
    """For each (megapixels, clients): A and B, ``rounds`` turns each, order alternating."""
    pairs = []
    for mp, clients in runs:
        parts: dict[str, list[tuple[PipelineResult, float]]] = {a.name: [], b.name: []}
        for turn in range(rounds):
            for side in (a, b) if turn % 2 == 0 else (b, a):
                result, wall = measure_run(
                    side.name, side.stack, token, jpegs[mp], clients, seconds
                )
                parts[side.name].append((result, wall))
                say(
                    f"    {side.name}: {mp} MP, {clients} client(s): {result.images_per_s:.1f} "
                    f"img/s, p50 {result.pct(50):.1f} ms"
                )
        pairs.append((merge(parts[a.name], mp), merge(parts[b.name], mp)))
    return pairs

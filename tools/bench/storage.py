"""``python -m tools.bench.storage``: inline photos vs claim check, and direct uploads.

Measured side by side in one run, on real gateways and workers (one each per mode) against the
local RabbitMQ, Redis and object store:

- broker bytes per task: the body of the queued message, read back from a queue no worker
  consumes;
- pipeline latency and throughput of closed-loop clients, inline vs claim check, at 0.3, 1.2 and
  3 MP and for a 10 MiB photo, the two modes alternating so that load changes hit both;
- the gateway's peak memory while 20 clients upload a 10 MiB photo at once: multipart with the
  photo inline in the message (how every photo travelled before object storage), multipart
  with claim check, and direct uploads (the photo never reaches the gateway).

It rewrites its own section of ``--out`` (docs/BENCHMARKS.md) and leaves the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import pika
from PIL import Image

from config import Settings
from tools.bench.inputs import SIZES_MP, make_jpegs
from tools.bench.pipeline import StackHandle, drive, running_stack
from tools.bench.sections import STORAGE_END, STORAGE_START, with_marked_section
from tools.bench.system import current_rss_mb, machine_description, peak_rss_mb
from tools.devstack import REPO_ROOT, TEST_SERVICES, Services
from tools.devstack.emulator import sign_up, unique_email
from tools.devstack.services import local_redis_url
from tools.model.photos import sample_photo

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
INLINE = {"SNAPMATCH_CLAIM_CHECK_MIN_BYTES": str(1 << 40)}  # never a key
CLAIM_CHECK = {"SNAPMATCH_CLAIM_CHECK_MIN_BYTES": "0"}  # always a key
MODES = {"inline": INLINE, "claim check": CLAIM_CHECK}
CONCURRENT_UPLOADS = 20
DEFAULT_MIN_BYTES = Settings.model_fields["claim_check_min_bytes"].default


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ten_mib_photo() -> bytes:
    """A 20 MP camera-like JPEG (a real photograph, upscaled, with sensor-like noise) of just
    under 10 MiB, the upload limit."""
    photo = sample_photo("astronaut.png").convert("RGB")
    scale = (20e6 / (photo.width * photo.height)) ** 0.5
    size = (round(photo.width * scale), round(photo.height * scale))
    pixels = np.asarray(photo.resize(size, Image.Resampling.LANCZOS)).astype(np.int16)
    noisy = np.clip(pixels + np.random.default_rng(0).normal(0, 6, pixels.shape), 0, 255)
    image = Image.fromarray(noisy.astype(np.uint8))
    for quality in range(98, 80, -1):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if len(buffer.getvalue()) <= MAX_UPLOAD_BYTES:
            return buffer.getvalue()
    raise RuntimeError("no quality fits the upload limit")


# --- broker bytes ----------------------------------------------------------------------------


def queued_message_bytes(stack: StackHandle, token: str, photos: Sequence[bytes]) -> float:
    """Upload ``photos`` to a gateway without workers; the mean body size of their messages."""
    headers = {"Authorization": f"Bearer {token}"}
    for photo in photos:
        response = httpx.post(
            f"{stack.base_url}/predict",
            headers=headers,
            files={"image": ("p.jpg", photo, "image/jpeg")},
            timeout=60,
        )
        response.raise_for_status()
    connection = pika.BlockingConnection(pika.URLParameters(stack.services.amqp_url))
    try:
        channel = connection.channel()
        sizes = []
        for _ in photos:
            method, _, body = channel.basic_get(stack.queue, auto_ack=True)
            assert method is not None, "a message is missing from the queue"
            sizes.append(len(body))
    finally:
        connection.close()
    return statistics.fmean(sizes)


# --- gateway memory under 20 concurrent 10 MiB uploads --------------------------------------


async def _multipart(client: httpx.AsyncClient, headers: dict[str, str], photo: bytes) -> None:
    files = {"image": ("p.jpg", photo, "image/jpeg")}
    (await client.post("/predict", headers=headers, files=files)).raise_for_status()


async def _direct(client: httpx.AsyncClient, headers: dict[str, str], photo: bytes) -> None:
    body = {"content_type": "image/jpeg", "size_bytes": len(photo)}
    created = await client.post("/uploads", headers=headers, json=body)
    created.raise_for_status()
    ticket = created.json()
    put = await client.request(
        ticket["method"], ticket["url"], headers=ticket["headers"], content=photo
    )
    put.raise_for_status()
    data = {"upload_id": ticket["upload_id"]}
    (await client.post("/predict", headers=headers, data=data)).raise_for_status()


async def _concurrent(base_url: str, token: str, photo: bytes, direct: bool) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    upload = _direct if direct else _multipart
    limits = httpx.Limits(max_connections=CONCURRENT_UPLOADS * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(upload(client, headers, photo) for _ in range(CONCURRENT_UPLOADS)))
        return time.perf_counter() - started


@dataclasses.dataclass(frozen=True)
class MemoryRun:
    scenario: str
    idle_mb: float
    peak_mb: float
    seconds: float


def gateway_memory(
    tmp: Path, services: Services, token: str, photo: bytes, scenario: str, direct: bool, **env: str
) -> MemoryRun:
    """A fresh gateway (no worker): its resident memory idle, and its peak during the burst."""
    with running_stack(tmp, 0, services, env) as stack:
        pid = stack.pids["gateway"][0]
        httpx.get(f"{stack.base_url}/ready", timeout=10).raise_for_status()
        idle = current_rss_mb(pid)
        seconds = asyncio.run(_concurrent(stack.base_url, token, photo, direct))
        return MemoryRun(scenario, idle, peak_rss_mb(pid), seconds)


# --- report ----------------------------------------------------------------------------------


def _pct(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q)) if samples else float("nan")


def _reading(
    sizes: dict[str, int], pipeline: dict[tuple[str, str], tuple[list[float], float]]
) -> list[str]:
    """Where claim check starts to pay in this run, next to the configured default."""
    cheaper = [
        (name, size)
        for name, size in sizes.items()
        if _pct(pipeline[(name, "claim check")][0], 50) < _pct(pipeline[(name, "inline")][0], 50)
    ]
    dearer = [(name, size) for name, size in sizes.items() if (name, size) not in cheaper]
    said = ", ".join(f"{name} ({size / 1024:,.0f} KiB)" for name, size in cheaper) or "none"
    kept = ", ".join(f"{name} ({size / 1024:,.0f} KiB)" for name, size in dearer) or "none"
    return [
        f"Claim check had the lower median for: {said}; inline for: {kept}. Inline saves the "
        "worker a GET from the store; claim check saves the broker (and RabbitMQ's memory, disk "
        "and replication) the photo's bytes, which grow with the photo while the GET's cost "
        "hardly does. Medians within about 30 % of each other are noise on a shared 2-core "
        "machine (see the load average above). "
        f"`SNAPMATCH_CLAIM_CHECK_MIN_BYTES` defaults to {DEFAULT_MIN_BYTES // 1024} KiB: below it "
        "a message stays small for RabbitMQ and the worker skips a store round trip.",
    ]


def render(
    machine: list[str],
    sizes: dict[str, int],
    broker: dict[tuple[str, str], float],
    pipeline: dict[tuple[str, str], tuple[list[float], float]],
    memory: list[MemoryRun],
    clients: int,
    seconds: float,
    rounds: int,
) -> list[str]:
    lines = [
        STORAGE_START,
        "## Claim check",
        "",
        "Inline photos vs claim check, side by side in one run of "
        "`make bench BENCH_ARGS='--only storage'` (`python -m tools.bench.storage`): a gateway "
        "and one worker per mode on the local RabbitMQ, Redis and object store (s3rver). "
        "The gateway stores every original either way; claim check moves the photo out of the "
        "message, and the worker fetches it back.",
        "",
        *machine,
        "",
        "### Broker bytes per task",
        "",
        "The body of the queued message, read back from the queue.",
        "",
        "| photo | file | inline | claim check |",
        "|---|---|---|---|",
    ]
    for name, size in sizes.items():
        inline, claim = broker[(name, "inline")], broker[(name, "claim check")]
        lines.append(f"| {name} | {size / 1024:,.0f} KiB | {inline:,.0f} B | {claim:,.0f} B |")
    lines += [
        "",
        f"### Pipeline, {clients} closed-loop clients, {rounds} rounds of {seconds:.0f} s per cell",
        "",
        "Upload, then long-poll the result; the modes alternate cell by cell. Medians and p90 of "
        "the end-to-end time over all rounds, the ratio claim check / inline of the medians, "
        "and the mean throughput.",
        "",
        "| photo | inline p50 / p90 ms | claim check p50 / p90 ms | ratio p50 "
        "| inline img/s | claim check img/s |",
        "|---|---|---|---|---|---|",
    ]
    for name in sizes:
        (a, a_ips), (b, b_ips) = pipeline[(name, "inline")], pipeline[(name, "claim check")]
        ratio = _pct(b, 50) / _pct(a, 50)
        lines.append(
            f"| {name} | {_pct(a, 50):.1f} / {_pct(a, 90):.1f} | {_pct(b, 50):.1f} / "
            f"{_pct(b, 90):.1f} | {ratio:.2f} | {a_ips:.1f} | {b_ips:.1f} |"
        )
    lines += ["", *_reading(sizes, pipeline)]
    lines += [
        "",
        f"### Gateway memory, {CONCURRENT_UPLOADS} concurrent 10 MiB uploads",
        "",
        "A fresh gateway per scenario (no worker: the tasks wait in the queue). Resident memory "
        "when idle, and its peak (VmHWM) after the burst.",
        "",
        "| scenario | idle MB | peak MB | peak - idle MB | burst s |",
        "|---|---|---|---|---|",
    ]
    for run in memory:
        lines.append(
            f"| {run.scenario} | {run.idle_mb:.0f} | {run.peak_mb:.0f} | "
            f"{run.peak_mb - run.idle_mb:.0f} | {run.seconds:.1f} |"
        )
    lines.append(STORAGE_END)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.storage", description=__doc__)
    parser.add_argument("--vhost", default=TEST_SERVICES.vhost)
    parser.add_argument("--redis-db", default=os.environ.get("TEST_REDIS_DB", "1"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--seconds", type=float, default=3.0, help="per pipeline cell")
    parser.add_argument("--rounds", type=int, default=3, help="pipeline cells per mode and size")
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args(argv)
    services = dataclasses.replace(
        TEST_SERVICES, vhost=args.vhost, redis_url=local_redis_url(args.redis_db)
    )
    machine = machine_description()
    say("making the photos ...")
    photos = {f"{mp} MP": make_jpegs(mp) for mp in SIZES_MP}
    photos["10 MiB (20 MP)"] = [ten_mib_photo()]
    sizes = {name: round(statistics.fmean(len(p) for p in group)) for name, group in photos.items()}
    token = sign_up(unique_email("bench-storage")).id_token
    broker: dict[tuple[str, str], float] = {}
    pipeline: dict[tuple[str, str], tuple[list[float], float]] = {}
    memory: list[MemoryRun] = []
    with tempfile.TemporaryDirectory(prefix="snapmatch-bench-") as tmp:
        for mode, env in MODES.items():
            say(f"broker bytes, {mode} ...")
            with running_stack(Path(tmp), 0, services, env) as stack:
                for name, group in photos.items():
                    broker[(name, mode)] = queued_message_bytes(stack, token, group)
        say("pipelines: a gateway and a worker per mode ...")
        with (
            running_stack(Path(tmp), 1, services, INLINE) as inline,
            running_stack(Path(tmp), 1, services, CLAIM_CHECK) as claim,
        ):
            # Rounds of short cells, the modes alternating, so that a change in the machine's
            # load hits both alike; each cell's samples pooled, its rates averaged.
            rates: dict[tuple[str, str], list[float]] = {}
            for round_ in range(1, args.rounds + 1):
                for name, group in photos.items():
                    for mode, stack in (("inline", inline), ("claim check", claim)):
                        samples, ips = asyncio.run(
                            drive(stack.base_url, token, group, args.clients, args.seconds)
                        )
                        pipeline.setdefault((name, mode), ([], 0.0))[0].extend(
                            s.e2e_ms for s in samples
                        )
                        rates.setdefault((name, mode), []).append(ips)
                        say(f"  round {round_}, {name} {mode}: {ips:.1f} img/s")
            for cell, (samples_ms, _) in pipeline.items():
                pipeline[cell] = (samples_ms, statistics.fmean(rates[cell]))
        big = photos["10 MiB (20 MP)"][0]
        for scenario, direct, env in (
            ("multipart, photo inline in the message (the old path)", False, INLINE),
            ("multipart, claim check", False, CLAIM_CHECK),
            ("direct upload (presigned PUT)", True, CLAIM_CHECK),
        ):
            say(f"gateway memory: {scenario} ...")
            memory.append(gateway_memory(Path(tmp), services, token, big, scenario, direct, **env))
            say(f"  peak {memory[-1].peak_mb:.0f} MB (idle {memory[-1].idle_mb:.0f} MB)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    machine.append(f"- Load average when the run ended: {load}")
    section = render(
        machine, sizes, broker, pipeline, memory, args.clients, args.seconds, args.rounds
    )
    document = args.out.read_text() if args.out.is_file() else "# Benchmarks\n"
    text = "\n".join(section)
    args.out.write_text(with_marked_section(document, text, STORAGE_START, STORAGE_END))
    print("\n".join(section))
    say(f"updated the claim-check section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

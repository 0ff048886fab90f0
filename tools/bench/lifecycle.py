"""``python -m tools.bench.lifecycle``: what the task-lifecycle endpoints cost a client.

On a gateway and one worker started for the run, one client, side by side and interleaved
(so that a noisy neighbour hits both alike):

- ``POST /predict?wait=10`` (one request) against upload + ``GET /result?wait=30`` (two), for
  a 1.2 MP photo: time until the client holds the result;
- a batch of 10 photos (``POST /predict/batch`` + ``GET /batches/{id}?wait=30``) against 10
  single uploads in a row followed by a long-poll of each result: time until all 10 are in.

Prints a Markdown section and writes it into ``--out`` between markers that `make bench` keeps.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from tools.bench.inputs import make_jpegs
from tools.bench.pipeline import running_stack
from tools.bench.sections import LIFECYCLE_END, LIFECYCLE_START, with_marked_section
from tools.bench.system import machine_description
from tools.devstack import REPO_ROOT, TEST_SERVICES
from tools.devstack.emulator import sign_up, unique_email
from tools.devstack.services import local_redis_url


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _long_poll(client: httpx.Client, path: str) -> httpx.Response:
    while True:
        response = client.get(path, params={"wait": 30})
        if response.status_code == 200:
            return response
        if response.status_code != 404 or response.json()["status"] != "pending":
            raise RuntimeError(f"unexpected answer {response.status_code}: {response.text}")


def sync_upload(client: httpx.Client, jpeg: bytes) -> None:
    response = client.post(
        "/predict", params={"wait": 10}, files={"image": ("p.jpg", jpeg, "image/jpeg")}
    )
    if response.status_code != 200:
        raise RuntimeError(f"no result within the wait: {response.status_code} {response.text}")


def upload_then_poll(client: httpx.Client, jpeg: bytes) -> None:
    response = client.post("/predict", files={"image": ("p.jpg", jpeg, "image/jpeg")})
    response.raise_for_status()
    _long_poll(client, response.json()["result_url"])


def batch(client: httpx.Client, jpegs: Sequence[bytes]) -> None:
    files = [("images", (f"p{i}.jpg", jpeg, "image/jpeg")) for i, jpeg in enumerate(jpegs)]
    response = client.post("/predict/batch", files=files)
    response.raise_for_status()
    done = _long_poll(client, response.headers["Location"]).json()
    if len(done["results"]) != len(jpegs):
        raise RuntimeError(f"a batch of {len(jpegs)} answered {len(done['results'])} results")


def singles(client: httpx.Client, jpegs: Sequence[bytes]) -> None:
    urls = []
    for jpeg in jpegs:
        response = client.post("/predict", files={"image": ("p.jpg", jpeg, "image/jpeg")})
        response.raise_for_status()
        urls.append(response.json()["result_url"])
    for url in urls:
        _long_poll(client, url)


@dataclasses.dataclass(frozen=True)
class Pair:
    name_a: str
    name_b: str
    a_ms: list[float]
    b_ms: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.a_ms) / statistics.median(self.b_ms)


def interleaved(
    runs: int, a: Callable[[], None], b: Callable[[], None], names: tuple[str, str]
) -> Pair:
    a_ms, b_ms = [], []
    for index in range(runs):
        first, second = (a, b) if index % 2 == 0 else (b, a)  # alternate who goes first
        one, two = _timed(first), _timed(second)
        a_ms.append(one if first is a else two)
        b_ms.append(two if first is a else one)
    return Pair(names[0], names[1], a_ms, b_ms)


def _row(name: str, samples: list[float]) -> str:
    p90 = statistics.quantiles(samples, n=10, method="inclusive")[-1]
    return f"| {name} | {len(samples)} | {statistics.median(samples):.1f} | {p90:.1f} |"


def render(machine: list[str], end_load: str, sync: Pair, batches: Pair, command: str) -> str:
    lines = [
        LIFECYCLE_START,
        "## Task lifecycle: synchronous answer and batches",
        "",
        f"Measured by `{command}` (`tools/bench/lifecycle.py`): a gateway and one worker "
        "(defaults, EfficientNet-Lite0 fp32), one client with keep-alive, the two variants of "
        "each pair interleaved, alternating which goes first.",
        "",
        *machine,
        f"- Load average when the run ended: {end_load}",
        "",
        "One 1.2 MP photo, from the first byte sent until the client holds the result:",
        "",
        "| variant | runs | p50 ms | p90 ms |",
        "|---|---|---|---|",
        _row(sync.name_a, sync.a_ms),
        _row(sync.name_b, sync.b_ms),
        "",
        f"Ratio of the medians, synchronous / upload + long-poll: **{sync.ratio:.2f}**. Both "
        "wait for the same worker through the same queue; the synchronous answer saves the "
        "client its second request, not the work, so a ratio near 1 is the expected result.",
        "",
        "Ten 1.2 MP photos (three real photographs in turn), until all ten results are in:",
        "",
        "| variant | runs | p50 ms | p90 ms |",
        "|---|---|---|---|",
        _row(batches.name_a, batches.a_ms),
        _row(batches.name_b, batches.b_ms),
        "",
        f"Ratio of the medians, batch / singles: **{batches.ratio:.2f}**. The batch's tasks "
        "are published side by side once every image passed its checks; ten single uploads "
        "let the worker start on the first while the client still sends the others.",
        LIFECYCLE_END,
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.lifecycle", description=__doc__)
    parser.add_argument("--vhost", default=TEST_SERVICES.vhost)
    parser.add_argument("--redis-db", default=os.environ.get("TEST_REDIS_DB", "1"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--runs", type=int, default=30, help="single-photo pairs")
    parser.add_argument("--batch-runs", type=int, default=9, help="batch-of-10 pairs")
    args = parser.parse_args(argv)
    services = dataclasses.replace(
        TEST_SERVICES, vhost=args.vhost, redis_url=local_redis_url(args.redis_db)
    )
    machine = machine_description()
    photos = make_jpegs(1.2)
    ten = [photos[i % len(photos)] for i in range(10)]
    token = sign_up(unique_email("bench")).id_token
    with (
        tempfile.TemporaryDirectory(prefix="snapmatch-bench-") as tmp,
        running_stack(Path(tmp), 1, services) as stack,
        httpx.Client(
            base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client,
    ):
        say("warming up ...")
        for jpeg in photos:
            sync_upload(client, jpeg)
            upload_then_poll(client, jpeg)
        batch(client, ten)
        say(f"{args.runs} x (POST ?wait=10, upload + long-poll) ...")
        jpeg = photos[0]
        sync = interleaved(
            args.runs,
            lambda: sync_upload(client, jpeg),
            lambda: upload_then_poll(client, jpeg),
            ("`POST /predict?wait=10`", "`POST /predict` + `GET /result?wait=30`"),
        )
        say(f"{args.batch_runs} x (batch of 10, 10 singles) ...")
        batches = interleaved(
            args.batch_runs,
            lambda: batch(client, ten),
            lambda: singles(client, ten),
            (
                "`POST /predict/batch` (10) + `GET /batches/{id}?wait=30`",
                "10 x `POST /predict`, then `GET /result?wait=30` each",
            ),
        )
    end_load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    command = "make bench-lifecycle"
    section = render(machine, end_load, sync, batches, command)
    document = args.out.read_text() if args.out.is_file() else "# Benchmarks\n"
    args.out.write_text(with_marked_section(document, section, LIFECYCLE_START, LIFECYCLE_END))
    print(section)
    say(f"updated the task-lifecycle section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

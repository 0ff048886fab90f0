#!/usr/bin/env python3
"""Chaos run: a few hundred uploads while workers are SIGKILLed and replaced, RabbitMQ is
restarted and Redis is killed and restarted; then a table of what became of every upload.

    make chaos                      (or: .venv/bin/python scripts/chaos.py --uploads 300)

Loopback only. It uses its own RabbitMQ vhost (``snapmatch-chaos``, created by `make chaos`)
and a queue of its own, and a private redis-server with an append-only file (fsync always) on a
free port, so killing that Redis loses nothing and touches no other Redis user. RabbitMQ itself
is the shared local node: it is restarted for real (``rabbitmqctl stop_app``/``start_app``) and
always left running.

Columns: sent; accepted (202); refused (503/429 with Retry-After, never retried here);
completed (``done``); failed (``failed``, e.g. the deliberately truncated uploads); LOST
(accepted but no terminal result by the end); duplicates executed (model runs beyond the first
per task, counted from the workers' "running the model" log lines, which come before each
run). Exit status 1 when anything is lost or an answer was unexpected.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tools.devstack import Process, free_port, spawn, wait_until  # noqa: E402
from tools.devstack.emulator import sign_up, unique_email  # noqa: E402
from tools.devstack.redis_server import RedisServer  # noqa: E402

VHOST = "snapmatch-chaos"
RUN_LINE = re.compile(r"task (\S+): running the model \(attempt \d+\)")


# --------------------------------------------------------------------------- services


def rabbitmqctl(*args: str, timeout: float = 120) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        ["rabbitmqctl", "-q", *args],  # noqa: S607 - the operator's rabbitmqctl on PATH
        check=True,
        capture_output=True,
        timeout=timeout,
    )


def restart_rabbitmq(down_seconds: float) -> None:
    rabbitmqctl("stop_app")
    try:
        time.sleep(down_seconds)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup", "--timeout", "120", timeout=150)


# --------------------------------------------------------------------------- the system


@dataclass
class System:
    queue: str
    log_dir: Path
    redis_url: str
    gateway: Process | None = None
    base_url: str = ""
    workers: list[Process] = field(default_factory=list)
    retired: list[Process] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SNAPMATCH_")}
        env.update(
            SNAPMATCH_ENVIRONMENT="test",
            SNAPMATCH_AUTH_MODE="emulator",
            SNAPMATCH_AMQP_URL=f"amqp://snapmatch:snapmatch@127.0.0.1:5672/{VHOST}",
            SNAPMATCH_REDIS_URL=self.redis_url,
            SNAPMATCH_TASK_QUEUE=self.queue,
            SNAPMATCH_LOG_LEVEL="INFO",
            # One load-generating user: per-user budgets are not what this run puts to the test.
            SNAPMATCH_UPLOAD_RATE_LIMIT="0",
            SNAPMATCH_POLL_RATE_LIMIT="0",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start_gateway(self) -> None:
        port = free_port()
        env = self.env() | {"SNAPMATCH_GATEWAY_PORT": str(port)}
        self.gateway = spawn("gateway", "app", env, self.log_dir)
        self.base_url = f"http://127.0.0.1:{port}"
        wait_until(self._ready, timeout=90, what="the gateway's /ready")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self) -> None:
        index = len(self.workers) + len(self.retired) + 1
        env = self.env() | {"SNAPMATCH_WORKER_HEARTBEAT_FILE": str(self.log_dir / f"w{index}")}
        self.workers.append(spawn(f"worker-{index}", "worker", env, self.log_dir))

    def kill_a_worker(self, rng: random.Random) -> str:
        victim = rng.choice(self.workers)
        victim.send(signal.SIGKILL)
        victim.popen.wait(10)
        self.workers.remove(victim)
        self.retired.append(victim)
        return victim.name

    def executions(self) -> Counter[str]:
        runs: Counter[str] = Counter()
        for process in self.workers + self.retired:
            runs.update(RUN_LINE.findall(process.log()))
        return runs

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.gateway is not None:
            self.gateway.stop()


def delete_topology(queue: str) -> None:
    import pika

    url = f"amqp://snapmatch:snapmatch@127.0.0.1:5672/{VHOST}"
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.dead", f"{queue}.dead.results"):
            channel.queue_delete(name)
        channel.exchange_delete(f"{queue}.dead")
    finally:
        connection.close()


# --------------------------------------------------------------------------- traffic


def photos() -> list[bytes]:
    """Real photos, plus truncated copies that must end ``failed`` (undecodable)."""
    from PIL import Image
    from skimage import data

    images = []
    for load in (data.coffee, data.chelsea, data.astronaut):
        pixels = load()  # type: ignore[no-untyped-call]
        buffer = io.BytesIO()
        Image.fromarray(pixels).convert("RGB").save(buffer, format="JPEG", quality=90)
        images.append(buffer.getvalue())
    return [*images, images[0][: len(images[0]) // 2]]


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    accepted: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    other: Counter[int] = field(default_factory=Counter)
    terminal: dict[str, str] = field(default_factory=dict)
    failure_codes: Counter[str] = field(default_factory=Counter)

    def outstanding(self) -> list[str]:
        with self.lock:
            return [t for t in self.accepted if t not in self.terminal]


def upload_one(
    client: httpx.Client, system: System, token: str, image: bytes, ledger: Ledger
) -> None:
    with ledger.lock:
        ledger.sent += 1
    try:
        response = client.post(
            f"{system.base_url}/predict",
            headers={"Authorization": f"Bearer {token}"},
            files={"image": ("photo.jpg", image, "image/jpeg")},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        with ledger.lock:
            ledger.refused[f"no answer ({type(exc).__name__})"] += 1
        return
    with ledger.lock:
        if response.status_code == 202:
            ledger.accepted.append(response.json()["task_id"])
        elif response.status_code in (429, 503) and response.headers.get("Retry-After"):
            ledger.refused[response.json().get("error", str(response.status_code))] += 1
        else:
            ledger.other[response.status_code] += 1


def poll_until_stopped(system: System, token: str, ledger: Ledger, stop: threading.Event) -> None:
    """Records the first terminal answer of every accepted task (results expire after 5 min)."""
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            for task_id in ledger.outstanding():
                try:
                    response = client.get(
                        f"{system.base_url}/result/{task_id}",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.HTTPError:
                    break
                if response.status_code == 200:
                    body = response.json()
                    with ledger.lock:
                        ledger.terminal[task_id] = body["status"]
                        if body.get("error"):
                            ledger.failure_codes[body["error"]["code"]] += 1
            stop.wait(0.5)


# --------------------------------------------------------------------------- the run


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)


def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)  # noqa: S311 - picks which worker to kill, not a secret
    work_dir = Path(tempfile.mkdtemp(prefix="snapmatch-chaos-"))
    redis_server = RedisServer(work_dir, durable=True)
    redis_server.start()
    system = System(
        queue=f"tasks-chaos-{uuid.uuid4().hex[:8]}", log_dir=work_dir, redis_url=redis_server.url
    )
    ledger = Ledger()
    stop_polling = threading.Event()
    started = time.monotonic()
    try:
        system.start_gateway()
        for _ in range(args.workers):
            system.start_worker()
        token = sign_up(unique_email("chaos")).id_token
        images = photos()
        log(f"gateway {system.base_url}, {args.workers} workers, logs in {work_dir}", started)

        poller = threading.Thread(
            target=poll_until_stopped, args=(system, token, ledger, stop_polling), daemon=True
        )
        poller.start()

        duration = args.uploads / args.rate
        # The disruptions, at fractions of the upload phase.
        schedule = sorted(
            [(duration * f, "kill-worker") for f in (0.1, 0.3, 0.45, 0.6, 0.75, 0.9)]
            + [(duration * 0.55, "restart-redis")]
            + ([] if args.keep_rabbitmq else [(duration * 0.2, "restart-rabbitmq")])
        )

        def disrupt() -> None:
            for at, action in schedule:
                time.sleep(max(0.0, started_uploads + at - time.monotonic()))
                if action == "kill-worker":
                    name = system.kill_a_worker(rng)
                    system.start_worker()
                    log(f"SIGKILL {name}; started a replacement", started)
                elif action == "restart-rabbitmq":
                    log("RabbitMQ: stop_app", started)
                    restart_rabbitmq(down_seconds=args.outage)
                    log("RabbitMQ: started again", started)
                else:
                    log("Redis: SIGKILL", started)
                    redis_server.kill()
                    time.sleep(args.outage)
                    redis_server.start()
                    log("Redis: started again (from its append-only file)", started)

        started_uploads = time.monotonic()
        chaos = threading.Thread(target=disrupt, daemon=True)
        chaos.start()
        with httpx.Client() as client, ThreadPoolExecutor(max_workers=8) as pool:
            for n in range(args.uploads):
                time.sleep(max(0.0, started_uploads + n / args.rate - time.monotonic()))
                # Every tenth upload is the truncated photo; the rest rotate over real ones.
                image = images[-1] if n % 10 == 9 else images[n % (len(images) - 1)]
                pool.submit(upload_one, client, system, token, image, ledger)
        chaos.join()
        log(f"uploads done: {ledger.sent} sent, {len(ledger.accepted)} accepted", started)

        deadline = time.monotonic() + args.settle
        while ledger.outstanding() and time.monotonic() < deadline:
            time.sleep(1)
        stop_polling.set()
        poller.join(30)
        log(f"settled; {len(ledger.outstanding())} without a terminal result", started)
        executions = system.executions()
    finally:
        stop_polling.set()
        system.stop()
        redis_server.kill()
        try:
            rabbitmqctl("await_startup", "--timeout", "5", timeout=30)
        except subprocess.CalledProcessError:
            rabbitmqctl("start_app")
        delete_topology(system.queue)

    statuses = Counter(ledger.terminal.values())
    lost = ledger.outstanding()
    extra_runs = sum(n - 1 for n in executions.values() if n > 1)
    rows = [
        ("sent", ledger.sent),
        ("accepted (202)", len(ledger.accepted)),
        ("refused (503/429)", sum(ledger.refused.values())),
        ("completed (done)", statuses["done"]),
        ("failed", statuses["failed"]),
        ("LOST", len(lost)),
        ("duplicates executed", extra_runs),
    ]
    print()
    print(f"chaos run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
    print(
        f"{args.uploads} uploads at {args.rate}/s, {args.workers} workers, seed {args.seed}, "
        f"{time.monotonic() - started:.0f} s in all"
    )
    print()
    print("| | count |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print(f"refusals by error: {dict(ledger.refused)}")
    print(f"failures by code: {dict(ledger.failure_codes)}")
    print(f"tasks whose model ran more than once: {sum(1 for n in executions.values() if n > 1)}")
    if ledger.other:
        print(f"other answers: {dict(ledger.other)}")
    if lost:
        print(f"LOST task ids: {lost[:20]}")
    return 1 if lost or ledger.other else 0


def machine() -> str:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{platform.node()} ({os.cpu_count()} vCPU {model}, {system})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--rate", type=float, default=4.0, help="uploads per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--outage", type=float, default=5.0, help="seconds a service stays down")
    parser.add_argument(
        "--settle",
        type=float,
        default=150.0,
        help="seconds to wait for the last results after the uploads",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep-rabbitmq",
        action="store_true",
        help="skip the RabbitMQ restart (the node is shared with others)",
    )
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())

"""``python -m tools.chaos``: run the chaos drill and print what became of every upload."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tools.chaos.disruptions import Disruptions, rabbitmqctl
from tools.chaos.traffic import Ledger, photos, poll_until_stopped, upload_one
from tools.devstack import Services, Stack, delete_queue
from tools.devstack.emulator import sign_up, unique_email
from tools.devstack.redis_server import RedisServer

VHOST = "snapmatch-chaos"
DATABASE = "snapmatch"  # the development catalog (`make services` creates it)
ENV = {
    "SNAPMATCH_LOG_LEVEL": "INFO",  # the "running the model" lines are counted
    # One load-generating user: per-user budgets are not what this run puts to the test.
    "SNAPMATCH_UPLOAD_RATE_LIMIT": "0",
    "SNAPMATCH_POLL_RATE_LIMIT": "0",
}


class Clock:
    """Progress lines for the operator, stamped with the seconds since the run started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, message: str) -> None:
        print(f"[{self.elapsed():6.1f} s] {message}", flush=True)


def executions(stack: Stack) -> Counter[str]:
    """Model runs per task id, from the logs of every worker, the killed ones included."""
    runs: Counter[str] = Counter()
    for worker in stack.workers:
        runs.update(str(run["task_id"]) for run in worker.model_runs())
    return runs


def upload_under_disruption(
    stack: Stack, disruptions: Disruptions, token: str, ledger: Ledger, args: argparse.Namespace
) -> None:
    """``args.uploads`` uploads at ``args.rate`` per second while the disruptions happen."""
    images = photos()
    duration = args.uploads / args.rate
    started = time.monotonic()
    chaos = threading.Thread(target=disruptions.run, args=(started, duration), daemon=True)
    chaos.start()
    with httpx.Client() as client, ThreadPoolExecutor(max_workers=8) as pool:
        for n in range(args.uploads):
            time.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            # Every tenth upload is the truncated photo; the rest rotate over real ones.
            image = images[-1] if n % 10 == 9 else images[n % (len(images) - 1)]
            pool.submit(upload_one, client, stack.base_url, token, image, ledger)
    chaos.join()


def exercise(
    stack: Stack, redis_server: RedisServer, ledger: Ledger, args: argparse.Namespace, say: Clock
) -> Counter[str]:
    """Start the system, upload under disruption, wait for the results; the model runs."""
    stack.start_gateway()
    for _ in range(args.workers):
        stack.start_worker()
    token = sign_up(unique_email("chaos")).id_token
    say(f"gateway {stack.base_url}, {args.workers} workers, logs in {stack.log_dir}")
    stop_polling = threading.Event()
    poller = threading.Thread(
        target=poll_until_stopped, args=(stack.base_url, token, ledger, stop_polling), daemon=True
    )
    poller.start()
    try:
        disruptions = Disruptions(stack, redis_server, args, say)
        upload_under_disruption(stack, disruptions, token, ledger, args)
        say(f"uploads done: {ledger.sent} sent, {len(ledger.accepted)} accepted")
        deadline = time.monotonic() + args.settle
        while ledger.outstanding() and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        stop_polling.set()
    poller.join(30)
    say(f"settled; {len(ledger.outstanding())} without a terminal result")
    return executions(stack)


def run(args: argparse.Namespace) -> int:
    say = Clock()
    work_dir = Path(tempfile.mkdtemp(prefix="snapmatch-chaos-"))
    redis_server = RedisServer(work_dir, durable=True)
    redis_server.start()
    services = Services(vhost=VHOST, redis_url=redis_server.url, database=DATABASE)
    stack = Stack(
        queue=f"tasks-chaos-{uuid.uuid4().hex[:8]}",
        log_dir=work_dir,
        env_overrides=ENV,
        services=services,
    )
    ledger = Ledger()
    try:
        runs = exercise(stack, redis_server, ledger, args, say)
    finally:
        stack.stop()
        redis_server.kill()
        try:
            rabbitmqctl("await_startup", "--timeout", "5", timeout=30)
        except subprocess.CalledProcessError:
            rabbitmqctl("start_app")
        delete_queue(stack.queue, amqp_url=services.amqp_url)
    return report(ledger, runs, args, say.elapsed())


def report(ledger: Ledger, runs: Counter[str], args: argparse.Namespace, seconds: float) -> int:
    """Print what became of every upload; the exit status (1: something lost or unexpected)."""
    statuses = Counter(ledger.terminal.values())
    lost = ledger.outstanding()
    rows = [
        ("sent", ledger.sent),
        ("accepted (202)", len(ledger.accepted)),
        ("refused (503/429)", sum(ledger.refused.values())),
        ("completed (done)", statuses["done"]),
        ("failed", statuses["failed"]),
        ("LOST", len(lost)),
        ("duplicates executed", sum(n - 1 for n in runs.values() if n > 1)),
    ]
    print()
    print(f"chaos run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
    print(
        f"{args.uploads} uploads at {args.rate}/s, {args.workers} workers, seed {args.seed}, "
        f"{seconds:.0f} s in all"
    )
    print()
    print("| | count |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print(f"refusals by error: {dict(ledger.refused)}")
    print(f"failures by code: {dict(ledger.failure_codes)}")
    print(f"tasks whose model ran more than once: {sum(1 for n in runs.values() if n > 1)}")
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
    parser = argparse.ArgumentParser(
        prog="python -m tools.chaos",
        description="Uploads under worker kills and broker and Redis restarts.",
    )
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

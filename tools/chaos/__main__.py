"""``python -m tools.chaos``: run the chaos drill and print what became of every upload."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tools.chaos.disruptions import Disruptions, rabbitmqctl
from tools.chaos.report import Clock, report
from tools.chaos.run import RUN_ENV, Load, exercise
from tools.chaos.traffic import Ledger
from tools.devstack import Services, Stack, delete_queue
from tools.devstack.redis_server import RedisServer

VHOST = "snapmatch-chaos"
DATABASE = "snapmatch"  # the development catalog (`make services` creates it)


def run(args: argparse.Namespace) -> int:
    say = Clock()
    work_dir = Path(tempfile.mkdtemp(prefix="snapmatch-chaos-"))
    redis_server = RedisServer(work_dir, durable=True)
    redis_server.start()
    services = Services(vhost=VHOST, redis_url=redis_server.url, database=DATABASE)
    stack = Stack(
        queue=f"tasks-chaos-{uuid.uuid4().hex[:8]}",
        log_dir=work_dir,
        env_overrides=RUN_ENV,
        services=services,
    )
    ledger = Ledger()
    load = Load(uploads=args.uploads, rate=args.rate, workers=args.workers, settle=args.settle)
    try:
        disruptions = Disruptions(stack, redis_server, args, say)
        runs = exercise(stack, disruptions.run, ledger, load, say)
    finally:
        stack.stop()
        redis_server.kill()
        try:
            rabbitmqctl("await_startup", "--timeout", "5", timeout=30)
        except subprocess.CalledProcessError:
            rabbitmqctl("start_app")
        delete_queue(stack.queue, amqp_url=services.amqp_url)
    return report(
        ledger,
        runs,
        title="chaos run",
        setup=f"{args.uploads} uploads at {args.rate}/s, {args.workers} workers, seed {args.seed}",
        seconds=say.elapsed(),
    )


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

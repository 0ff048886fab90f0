"""``python -m tools.drill cluster|redis``: a failover drill and its table (``tools.drill``)."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from tools.chaos.report import Clock, report
from tools.chaos.run import Load
from tools.drill import cluster, redis_failover

CHAOS_VHOST = "snapmatch-chaos"  # created by `make drill-redis`, as for `make chaos`
DATABASE = "snapmatch"  # the development catalog (`make services` creates it)


def run(args: argparse.Namespace) -> int:
    say = Clock()
    work_dir = Path(tempfile.mkdtemp(prefix=f"snapmatch-drill-{args.drill}-"))
    load = Load(uploads=args.uploads, rate=args.rate, workers=args.workers, settle=args.settle)
    status = 1
    try:
        if args.drill == "cluster":
            ledger, runs = cluster.drill(work_dir, load, say, database=args.database)
            title = "RabbitMQ cluster drill"
            setup = "3 nodes, the leader of 'tasks' SIGKILLed and restarted"
        else:
            ledger, runs = redis_failover.drill(
                work_dir, load, say, vhost=args.vhost, database=args.database
            )
            title = "Redis failover drill"
            setup = "primary + replica + 3 Sentinels, the primary SIGKILLed and rejoined"
        status = report(
            ledger,
            runs,
            title=title,
            setup=f"{setup}; {args.uploads} uploads at {args.rate}/s, {args.workers} workers",
            seconds=say.elapsed(),
        )
    finally:
        if status == 0 and not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"logs and data kept in {work_dir}", file=sys.stderr)
    return status


def _exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every process the drill started is stopped."""

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.drill",
        description="Uploads while the RabbitMQ node leading the queue, or the Redis primary, "
        "is SIGKILLed; then what became of every upload.",
    )
    parser.add_argument("drill", choices=("cluster", "redis"))
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--rate", type=float, default=4.0, help="uploads per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--settle",
        type=float,
        default=150.0,
        help="seconds to wait for the last results after the uploads",
    )
    parser.add_argument(
        "--vhost", default=CHAOS_VHOST, help="RabbitMQ vhost of the local broker (redis drill)"
    )
    parser.add_argument("--database", default=DATABASE, help="MariaDB catalog database")
    parser.add_argument(
        "--keep", action="store_true", help="keep the logs and data even when nothing was lost"
    )
    _exit_on_sigterm()
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())

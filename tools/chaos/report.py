"""The table a chaos run or a failover drill ends with: what became of every upload."""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from datetime import UTC, datetime

from tools.chaos.traffic import Ledger
from tools.devstack import Stack


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


def report(ledger: Ledger, runs: Counter[str], *, title: str, setup: str, seconds: float) -> int:
    """Print the table, ending with ``lost: N``; the exit status (1: lost or unexpected)."""
    statuses = Counter(ledger.terminal.values())
    lost = ledger.lost()
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
    print(f"{title} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
    print(f"{setup}, {seconds:.0f} s in all")
    print()
    print("| | count |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print(f"refusals by error: {dict(ledger.refused)}")
    print(f"failures by code: {dict(ledger.failure_codes)}")
    print(f"tasks whose model ran more than once: {sum(1 for n in runs.values() if n > 1)}")
    print(f"results gone when read again at the end: {len(ledger.vanished)}")
    if ledger.other:
        print(f"other answers: {dict(ledger.other)}")
    if lost:
        print(f"LOST task ids: {lost[:20]}")
    print(f"lost: {len(lost)}")
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

"""One run, whatever is disrupted: start the system, upload at a steady rate while the
disruptions play, wait for every accepted task, read every result again.

The chaos run (``tools.chaos``) and the failover drills (``tools.drill``) differ only in what
they break and what they run against; they share this, the ledger and the table.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from tools.chaos.report import Clock, executions
from tools.chaos.traffic import Ledger, photos, poll_until_stopped, read_all_again, upload_one
from tools.devstack import Stack
from tools.devstack.emulator import sign_up, unique_email

# Plays the disruptions at their moments: called with (monotonic start, upload phase seconds).
Disruption = Callable[[float, float], None]

# What every run's gateway and workers get on top of the stack's own settings.
RUN_ENV = {
    "SNAPMATCH_LOG_LEVEL": "INFO",  # the "running the model" lines are counted
    # One load-generating user: per-user budgets are not what a run puts to the test.
    "SNAPMATCH_UPLOAD_RATE_LIMIT": "0",
    "SNAPMATCH_POLL_RATE_LIMIT": "0",
    # Results must outlive the run, so that the final re-read finds every one of them.
    "SNAPMATCH_RESULT_TTL_SECONDS": "3600",
}


def sleep_until(started: float, seconds: float) -> None:
    """Sleep until ``seconds`` after the monotonic instant ``started``."""
    time.sleep(max(0.0, started + seconds - time.monotonic()))


@dataclass(frozen=True)
class Load:
    uploads: int
    rate: float  # uploads per second
    workers: int
    settle: float  # seconds to wait for the last results after the uploads


def upload_under_disruption(
    stack: Stack, disrupt: Disruption, token: str, ledger: Ledger, load: Load
) -> None:
    """``load.uploads`` uploads at ``load.rate`` per second while the disruptions happen."""
    images = photos()
    duration = load.uploads / load.rate
    started = time.monotonic()
    chaos = threading.Thread(target=disrupt, args=(started, duration), daemon=True)
    chaos.start()
    with httpx.Client() as client, ThreadPoolExecutor(max_workers=8) as pool:
        for n in range(load.uploads):
            sleep_until(started, n / load.rate)
            # Every tenth upload is the truncated photo; the rest rotate over real ones.
            image = images[-1] if n % 10 == 9 else images[n % (len(images) - 1)]
            pool.submit(upload_one, client, stack.base_url, token, image, ledger)
    chaos.join()


def exercise(
    stack: Stack, disrupt: Disruption, ledger: Ledger, load: Load, say: Clock
) -> Counter[str]:
    """Start the system, upload under disruption, wait for the results; the model runs."""
    stack.start_gateway()
    for _ in range(load.workers):
        stack.start_worker()
    token = sign_up(unique_email("chaos")).id_token
    say(f"gateway {stack.base_url}, {load.workers} workers, logs in {stack.log_dir}")
    stop_polling = threading.Event()
    poller = threading.Thread(
        target=poll_until_stopped, args=(stack.base_url, token, ledger, stop_polling), daemon=True
    )
    poller.start()
    try:
        upload_under_disruption(stack, disrupt, token, ledger, load)
        say(f"uploads done: {ledger.sent} sent, {len(ledger.accepted)} accepted")
        deadline = time.monotonic() + load.settle
        while ledger.outstanding() and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        stop_polling.set()
    poller.join(30)
    read_all_again(stack.base_url, token, ledger)
    say(
        f"settled; {len(ledger.outstanding())} without a terminal result, "
        f"{len(ledger.vanished)} answered but gone at the end"
    )
    return executions(stack)

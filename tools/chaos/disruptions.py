"""What happens to the system during a chaos run, and when."""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from tools.chaos.run import sleep_until
from tools.devstack import Stack
from tools.devstack.redis_server import RedisServer


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


def replace_a_worker(stack: Stack, rng: random.Random) -> str:
    """SIGKILL a random live worker and start another; return the victim's name.

    The replacement is not awaited: the broker may still count the dead one's consumer.
    """
    victim = rng.choice([worker for worker in stack.workers if worker.alive])
    victim.send(signal.SIGKILL)
    victim.popen.wait(10)
    stack.start_worker(wait=False)
    return victim.name


@dataclass
class Disruptions:
    """Worker kills, a RabbitMQ restart and a Redis kill at fractions of the upload phase."""

    stack: Stack
    redis_server: RedisServer
    args: argparse.Namespace
    say: Callable[[str], None]  # progress lines for the operator

    def schedule(self, duration: float) -> list[tuple[float, str]]:
        return sorted(
            [(duration * f, "kill-worker") for f in (0.1, 0.3, 0.45, 0.6, 0.75, 0.9)]
            + [(duration * 0.55, "restart-redis")]
            + ([] if self.args.keep_rabbitmq else [(duration * 0.2, "restart-rabbitmq")])
        )

    def run(self, started: float, duration: float) -> None:
        rng = random.Random(self.args.seed)  # noqa: S311 - picks which worker to kill
        for at, action in self.schedule(duration):
            sleep_until(started, at)
            if action == "kill-worker":
                self.say(f"SIGKILL {replace_a_worker(self.stack, rng)}; started a replacement")
            elif action == "restart-rabbitmq":
                self.say("RabbitMQ: stop_app")
                restart_rabbitmq(down_seconds=self.args.outage)
                self.say("RabbitMQ: started again")
            else:
                self.say("Redis: SIGKILL")
                self.redis_server.kill()
                time.sleep(self.args.outage)
                self.redis_server.start()
                self.say("Redis: started again (from its append-only file)")

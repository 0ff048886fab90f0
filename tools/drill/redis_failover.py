"""The Redis failover drill: the primary is SIGKILLed under load and Sentinel promotes the
replica; workers ack a task only once a replica has its result."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tools.chaos.report import Clock
from tools.chaos.run import RUN_ENV, Load, exercise, sleep_until
from tools.chaos.traffic import Ledger
from tools.devstack import Services, Stack, delete_queue
from tools.devstack.redis_sentinel import SentinelledRedis


@dataclass
class PrimaryLoss:
    """SIGKILL the primary at ``kill_at`` of the upload phase; at ``rejoin_at`` start it again
    as a replica of the promoted one."""

    group: SentinelledRedis
    say: Clock
    kill_at: float = 0.3
    rejoin_at: float = 0.6

    def run(self, started: float, duration: float) -> None:
        sleep_until(started, duration * self.kill_at)
        old = self.group.kill_primary()
        killed_at = time.monotonic()
        self.say(f"SIGKILL the Redis primary (:{old.port})")
        new = self.group.await_promotion(old)
        promoted_after = time.monotonic() - killed_at
        self.say(f"Sentinel promoted :{new.port} {promoted_after:.1f} s after the kill")
        sleep_until(started, duration * self.rejoin_at)
        self.group.rejoin(old)
        self.say(f"old primary :{old.port} back as a replica of :{new.port}, in sync")


def drill(
    work_dir: Path, load: Load, say: Clock, *, vhost: str, database: str
) -> tuple[Ledger, Counter[str]]:
    """Run the drill on the local RabbitMQ's ``vhost`` (a queue of its own, deleted after)."""
    group = SentinelledRedis(work_dir)
    services: Services | None = None
    stack: Stack | None = None
    try:
        group.start()
        primary = group.primary()
        say(
            f"Redis primary :{primary.port}, one replica, Sentinels "
            f"{group.sentinels_setting()}; workers wait for 1 replica before each ack"
        )
        services = Services(vhost=vhost, redis_url=primary.url, database=database)
        stack = Stack(
            queue=f"tasks-drill-{uuid.uuid4().hex[:8]}",
            log_dir=work_dir,
            env_overrides=RUN_ENV | group.env(min_replica_acks=1),
            services=services,
        )
        ledger = Ledger()
        runs = exercise(stack, PrimaryLoss(group, say).run, ledger, load, say)
        say(f"waits for a replica that timed out, their tasks held unacked: {held_acks(stack)}")
        return ledger, runs
    finally:
        if stack is not None:
            stack.stop()
            assert services is not None
            delete_queue(stack.queue, amqp_url=services.amqp_url)
        group.stop()


def held_acks(stack: Stack) -> int:
    """How often a worker's wait for a replica timed out (its task stayed unacked, retried)."""
    return sum(
        len(worker.events("result not yet on enough replicas; holding the task"))
        for worker in stack.workers
    )

"""The RabbitMQ cluster drill: the node leading the task queue is SIGKILLed under load."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from config.brokers import node_name
from tools.chaos.report import Clock
from tools.chaos.run import RUN_ENV, Load, exercise, sleep_until
from tools.chaos.traffic import Ledger
from tools.devstack import Services, Stack, wait_until
from tools.devstack.rabbitmq_cluster import VHOST, RabbitCluster
from tools.devstack.redis_server import RedisServer
from tools.devstack.services import declare_queue

QUEUE = "tasks"  # a fresh cluster: the production name


@dataclass
class LeaderLoss:
    """SIGKILL the queue's leader at ``kill_at`` of the upload phase; restart it at
    ``restart_at``."""

    cluster: RabbitCluster
    say: Clock
    kill_at: float = 0.3
    restart_at: float = 0.65

    def run(self, started: float, duration: float) -> None:
        sleep_until(started, duration * self.kill_at)
        leader = self.cluster.leader_of(QUEUE)
        self.say(f"SIGKILL {leader.label} (leader of '{QUEUE}')")
        self.cluster.kill(leader)
        wait_until(
            lambda: self.cluster.leader_of(QUEUE) is not leader,
            timeout=60,
            what="a new leader",
        )
        # rabbitmqctl is slow to answer with a node gone: when, the refusals in the table say.
        self.say(f"'{QUEUE}' now led by {self.cluster.leader_of(QUEUE).label}")
        sleep_until(started, duration * self.restart_at)
        self.say(f"restarting {leader.label}")
        self.cluster.restart(leader)
        online = self.cluster.quorum_queues()[QUEUE]["online"]
        self.say(f"{leader.label} back; '{QUEUE}' online on {len(online)} of 3 nodes")


def drill(work_dir: Path, load: Load, say: Clock, *, database: str) -> tuple[Ledger, Counter[str]]:
    """Run the drill; the ledger of the uploads and the model runs per task."""
    cluster = RabbitCluster(work_dir / "rabbitmq", prefix="snapmatch-drill")
    redis_server = RedisServer(work_dir, durable=True)
    stack: Stack | None = None
    try:
        say("starting a 3-node RabbitMQ cluster on loopback")
        cluster.start()
        redis_server.start()
        first = cluster.nodes[0]
        declare_queue(QUEUE, amqp_url=first.url())
        nodes = ", ".join(f"{node.label} (:{node.amqp_port})" for node in cluster.nodes)
        say(f"cluster up, nodes {nodes}; {replicas(cluster)}")
        leader = cluster.leader_of(QUEUE)
        services = Services(
            vhost=VHOST,
            redis_url=redis_server.url,
            database=database,
            amqp_nodes=tuple(cluster.urls(first=leader)),
        )
        stack = Stack(queue=QUEUE, log_dir=work_dir, env_overrides=RUN_ENV, services=services)
        ledger = Ledger()
        runs = exercise(stack, LeaderLoss(cluster, say).run, ledger, load, say)
        say(f"clients' nodes, in order: {reconnections(stack, cluster)}")
        return ledger, runs
    finally:
        if stack is not None:
            stack.stop()
        cluster.stop()
        redis_server.kill()


def replicas(cluster: RabbitCluster) -> str:
    """Where each quorum queue keeps its replicas, e.g. ``tasks: 3 replicas, leader a``."""
    return "; ".join(
        f"{name}: {len(row['members'])} replicas, leader {cluster.node(row['leader']).label}"
        for name, row in sorted(cluster.quorum_queues().items())
    )


def reconnections(stack: Stack, cluster: RabbitCluster) -> str:
    """Which node the gateway and each worker connected to, one after the other."""
    labels = {node_name(node.url()): node.label for node in cluster.nodes}
    processes = [p for p in (stack.gateway, *stack.workers) if p is not None]
    lines = []
    for process in processes:
        events = process.events("connected to RabbitMQ") + process.events("consuming")
        nodes = " -> ".join(labels.get(str(event.get("node")), "?") for event in events)
        lines.append(f"{process.name.replace(f'-{stack.queue}', '')} {nodes}")
    return "; ".join(lines)

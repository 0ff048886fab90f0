"""The gateway and a worker on a real three-node RabbitMQ cluster (private nodes on loopback):
the task queue is replicated on every node, and the loss of the node leading it costs a few
refused uploads, never an accepted one."""

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from config.brokers import node_name
from tests.support.client import poll, upload
from tools.devstack import TEST_SERVICES, Process, Stack, delete_queue, free_port
from tools.devstack.emulator import SignedInUser
from tools.devstack.rabbitmq_cluster import RabbitCluster
from tools.devstack.services import declare_queue


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    with RabbitCluster(tmp_path_factory.mktemp("rabbitmq")) as cluster:
        yield cluster


def _upload_until_accepted(stack: Stack, token: str, photo: bytes, *, timeout: float) -> str:
    """Upload as a client honouring Retry-After would, until a 202; the task id."""
    deadline = time.monotonic() + timeout
    while True:
        response = upload(stack.base_url, token, photo)
        if response.status_code == 202:
            task_id: str = response.json()["task_id"]
            return task_id
        assert response.status_code == 503 and response.headers["Retry-After"], response.text
        assert time.monotonic() < deadline, f"still refused after {timeout:.0f} s"
        time.sleep(0.5)


def _nodes(process: Process, event: str) -> list[str]:
    return [str(fields["node"]) for fields in process.events(event)]


def test_the_task_queues_have_a_replica_on_every_node(cluster: RabbitCluster) -> None:
    queue = f"tasks-{uuid.uuid4().hex[:8]}"
    declare_queue(queue, amqp_url=cluster.nodes[1].url())
    every_node = sorted(node.name for node in cluster.nodes)
    queues = cluster.quorum_queues()
    for name in (queue, f"{queue}.dead", f"{queue}.dead.results"):
        assert sorted(queues[name]["members"]) == every_node
        assert sorted(queues[name]["online"]) == every_node
    delete_queue(queue, amqp_url=cluster.urls())


def test_uploads_complete_across_the_loss_of_the_queue_leader(
    cluster: RabbitCluster, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    queue = f"tasks-{uuid.uuid4().hex[:8]}"
    declare_queue(queue, amqp_url=cluster.nodes[0].url())
    leader = cluster.leader_of(queue)
    services = replace(TEST_SERVICES, amqp_nodes=tuple(cluster.urls(first=leader)))
    stack = Stack(queue=queue, log_dir=tmp_path, services=services)
    try:
        stack.start_gateway()
        worker = stack.start_worker()
        before = _upload_until_accepted(stack, user.id_token, coffee_jpeg, timeout=10)
        assert poll(stack.base_url, user.id_token, before)["status"] == "done"

        cluster.kill(leader)
        try:
            after = _upload_until_accepted(stack, user.id_token, coffee_jpeg, timeout=60)
            assert poll(stack.base_url, user.id_token, after)["status"] == "done"
        finally:
            cluster.restart(leader)
        assert cluster.leader_of(queue) is not leader

        # Both were on the leader's node first, and moved on to another one.
        dead = node_name(leader.url())
        assert stack.gateway is not None
        for nodes in (_nodes(stack.gateway, "connected to RabbitMQ"), _nodes(worker, "consuming")):
            assert nodes[0] == dead, nodes
            assert len(nodes) >= 2 and nodes[-1] != dead, nodes
        assert httpx.get(f"{stack.base_url}/ready", timeout=5).json()["checks"]["rabbitmq"] == "ok"
    finally:
        stack.stop()
        delete_queue(queue, amqp_url=cluster.urls())


def test_a_node_that_refuses_connections_is_skipped_at_once(
    cluster: RabbitCluster, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    queue = f"tasks-{uuid.uuid4().hex[:8]}"
    refusing = f"amqp://snapmatch:snapmatch@127.0.0.1:{free_port()}/snapmatch"
    services = replace(TEST_SERVICES, amqp_nodes=(refusing, *cluster.urls()))
    stack = Stack(queue=queue, log_dir=tmp_path, services=services)
    try:
        started = time.monotonic()
        stack.start_gateway()
        worker = stack.start_worker()
        task_id = _upload_until_accepted(stack, user.id_token, coffee_jpeg, timeout=10)
        assert poll(stack.base_url, user.id_token, task_id)["status"] == "done"
        # No wait after the refusal: the wait comes only after every node has refused.
        assert time.monotonic() - started < 60
        assert stack.gateway is not None
        first_good = node_name(cluster.nodes[0].url())
        assert _nodes(stack.gateway, "connected to RabbitMQ") == [first_good]
        assert _nodes(worker, "consuming") == [first_good]
        refusals = stack.gateway.events("RabbitMQ not reachable; retrying")
        assert [(e["node"], e["retry_in_s"]) for e in refusals] == [(node_name(refusing), 0)]
    finally:
        stack.stop()
        delete_queue(queue, amqp_url=cluster.urls())

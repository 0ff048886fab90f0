"""snapmatch's real processes on the local services: what the tests, the benchmark, the chaos
run and the failover drills share.

- ``processes``: spawn a module as a process with its log in a file; free ports; polling waits.
- ``services``: which RabbitMQ vhost, Redis database and catalog database a stack uses (by
  default the checkout's own, from ``TEST_VHOST``/``TEST_REDIS_DB``/``TEST_DB``), and direct
  looks into them (queue counts, stored attempts, deleting a queue's topology).
- ``stack``: a gateway and its workers on one queue, started the way `make run` starts them.
- ``redis_server``: a private redis-server that may be killed and restarted.
- ``redis_sentinel``: a private primary, replica and three Sentinels, for failovers.
- ``rabbitmq_cluster``: a private three-node RabbitMQ cluster on loopback whose nodes may be
  killed and restarted.
- ``emulator``: users and ID tokens from the local Firebase Auth Emulator.
- ``browser``: Debian's Chromium under Playwright, for the web page (imported on its own: only
  the page's tests and benchmark need Playwright).
"""

from tools.devstack.processes import REPO_ROOT, Process, free_port, spawn, wait_until
from tools.devstack.services import (
    AMQP_URL,
    REDIS_URL,
    TEST_DB,
    TEST_SERVICES,
    TEST_VHOST,
    Services,
    delete_queue,
    queue_counts,
    stored_attempts,
)
from tools.devstack.stack import MODEL_DIR, REGISTRY, Stack, base_env

__all__ = [
    "AMQP_URL",
    "MODEL_DIR",
    "REDIS_URL",
    "REGISTRY",
    "REPO_ROOT",
    "TEST_DB",
    "TEST_SERVICES",
    "TEST_VHOST",
    "Process",
    "Services",
    "Stack",
    "base_env",
    "delete_queue",
    "free_port",
    "queue_counts",
    "spawn",
    "stored_attempts",
    "wait_until",
]

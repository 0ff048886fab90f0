"""Measure the gateway's CPU per authenticated request, with and without the token cache.

    .venv/bin/python -m tools.measure_auth_cpu [--requests N] [--rounds R]

Starts one real gateway (no worker) per configuration on the checkout's test services, signs
one user up on the Auth Emulator, and sends N sequential `GET /result/{unknown id}` (each one
authenticated, rate-limited and answered 404 from Redis) over a keep-alive connection. The
gateway's CPU time (user + system, from /proc) over those requests, divided by N, is one
sample; the rounds alternate between the configurations so that they share the machine's
noise, and the table gives each one's median. `GET /health` (no token) is the floor.

Emulator tokens are not signature-checked, so in production (RS256) a verification costs more
than here and the cache saves more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools.devstack import Stack, delete_queue
from tools.devstack.emulator import sign_up, unique_email

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Configuration:
    name: str
    env: dict[str, str]
    path: str = "/result/{id}"
    authenticated: bool = True


CONFIGURATIONS = (
    Configuration("/health, no token (floor)", {}, path="/health", authenticated=False),
    Configuration("no cache", {"SNAPMATCH_AUTH_TOKEN_CACHE_SIZE": "0"}),
    Configuration("token cache", {}),
    Configuration(
        "no cache, revocation checks",
        {"SNAPMATCH_AUTH_TOKEN_CACHE_SIZE": "0", "SNAPMATCH_AUTH_CHECK_REVOKED": "true"},
    ),
    Configuration(
        "token cache, revocation checks (30 s)", {"SNAPMATCH_AUTH_CHECK_REVOKED": "true"}
    ),
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


def sample(stack: Stack, configuration: Configuration, token: str, requests: int) -> float:
    """Gateway CPU milliseconds per request over ``requests`` sequential requests."""
    assert stack.gateway is not None
    headers = {"Authorization": f"Bearer {token}"} if configuration.authenticated else {}
    with httpx.Client(base_url=stack.base_url, headers=headers, timeout=30) as client:
        client.get(configuration.path.format(id=uuid.uuid4()))  # connection, caches warm
        before = cpu_seconds(stack.gateway.popen.pid)
        for _ in range(requests):
            response = client.get(configuration.path.format(id=uuid.uuid4()))
            assert response.status_code in (200, 404), response.text
        return (cpu_seconds(stack.gateway.popen.pid) - before) * 1000 / requests


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.measure_auth_cpu",
        description="Gateway CPU per authenticated request, token cache on and off.",
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    token = sign_up(unique_email("auth-cpu")).id_token
    samples: dict[str, list[float]] = {c.name: [] for c in CONFIGURATIONS}
    with tempfile.TemporaryDirectory(prefix="auth-cpu-") as log_dir:
        stacks = []
        try:
            for configuration in CONFIGURATIONS:
                stack = Stack(
                    queue=f"tasks-auth-cpu-{uuid.uuid4().hex[:8]}",
                    log_dir=Path(log_dir),
                    env_overrides={
                        "SNAPMATCH_POLL_RATE_LIMIT": "0",
                        **configuration.env,
                    },
                )
                stacks.append(stack)
                stack.start_gateway(probe="/health")
            for _ in range(args.rounds):
                for configuration, stack in zip(CONFIGURATIONS, stacks, strict=True):
                    samples[configuration.name].append(
                        sample(stack, configuration, token, args.requests)
                    )
        finally:
            for stack in stacks:
                stack.stop()
                delete_queue(stack.queue)
    print(f"gateway CPU per request, median of {args.rounds} x {args.requests} requests")
    print("| configuration | CPU ms / request |")
    print("|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

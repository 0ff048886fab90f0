"""The failover drills in a short form, run as an operator runs them (`make drill-cluster`,
`make drill-redis`): each ends its table with ``lost: 0`` and leaves no process behind."""

import re
import socket
import subprocess
import sys

import pytest

from tools.devstack import REPO_ROOT, TEST_SERVICES


def _drill(name: str, *args: str, timeout: float) -> str:
    """Run ``python -m tools.drill name`` against the suite's own vhost and catalog."""
    services = ["--vhost", TEST_SERVICES.vhost, "--database", TEST_SERVICES.database]
    result = subprocess.run(
        [sys.executable, "-m", "tools.drill", name, *services, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _count(table: str, row: str) -> int:
    match = re.search(rf"^\| {re.escape(row)} \| (\d+) \|$", table, re.MULTILINE)
    assert match, f"no row {row!r} in:\n{table}"
    return int(match.group(1))


def _answering(ports: list[str]) -> list[str]:
    """Those of ``ports`` on which something still accepts connections."""
    answering = []
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", int(port))) == 0:
                answering.append(port)
    return answering


@pytest.mark.timeout(600)
def test_the_cluster_drill_loses_no_task_when_the_queue_leader_dies() -> None:
    out = _drill("cluster", "--uploads", "48", "--settle", "90", timeout=540)
    assert out.rstrip().splitlines()[-1] == "lost: 0"
    assert "SIGKILL a (leader of 'tasks')" in out
    assert _count(out, "accepted (202)") >= 24
    assert _count(out, "completed (done)") + _count(out, "failed") == _count(out, "accepted (202)")
    # Every client started on the leader's node and moved to another.
    [moves] = re.findall(r"clients' nodes, in order: (.*)", out)
    assert re.fullmatch(r"gateway a -> [bc]; worker-1 a -> [bc]; worker-2 a -> [bc]", moves)
    [nodes] = re.findall(r"cluster up, nodes (.*?);", out)
    assert _answering(re.findall(r":(\d+)", nodes)) == []  # every node was stopped


@pytest.mark.timeout(400)
def test_the_redis_drill_loses_no_acknowledged_result_when_the_primary_dies() -> None:
    out = _drill("redis", "--uploads", "48", "--settle", "90", timeout=360)
    assert out.rstrip().splitlines()[-1] == "lost: 0"
    assert "Sentinel promoted" in out
    assert _count(out, "accepted (202)") >= 24
    assert _count(out, "completed (done)") + _count(out, "failed") == _count(out, "accepted (202)")
    assert "results gone when read again at the end: 0" in out
    [sentinels] = re.findall(r"Sentinels (\S+);", out)
    assert _answering(re.findall(r":(\d+)", sentinels)) == []  # every Sentinel was stopped

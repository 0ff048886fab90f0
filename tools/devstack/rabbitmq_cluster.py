"""A private RabbitMQ cluster on loopback that a test or drill may kill and restart, disturbing
no one: three nodes of the machine's own RabbitMQ (the Debian package's server, no Docker).

Each node has its own name, AMQP and distribution ports, data and log directories; all of them
share a fresh Erlang cookie and a private epmd on a free port. The machine's own node, its epmd,
its configuration (``/etc/rabbitmq``) and its cookie are never read or touched: every process
here gets a minimal environment of its own. The nodes form the cluster by themselves at boot
(classic-config peer discovery), with a vhost and user ``snapmatch``/``snapmatch``.

The scripts are run from ``/usr/lib/rabbitmq/bin`` when it exists: Debian's wrappers in
``/usr/sbin`` switch to the ``rabbitmq`` user and its home, hence its cookie.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.devstack.processes import StartStop, free_port, wait_until

VHOST = "snapmatch"
USER = PASSWORD = "snapmatch"  # noqa: S105 - a throwaway cluster on loopback
_DEBIAN_SCRIPTS = Path("/usr/lib/rabbitmq/bin")
_BOOT_TIMEOUT_SECONDS = 180.0
_STOP_TIMEOUT_SECONDS = 30.0
# One scheduler per node and no busy-waiting: three nodes share a small machine with the
# system under test. Distribution on loopback only.
_ERL_ARGS = (
    "+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}"
)


def rabbitmq_script(name: str) -> str:
    """The path of a RabbitMQ script (``rabbitmq-server``, ``rabbitmqctl``)."""
    debian = _DEBIAN_SCRIPTS / name
    if debian.exists():
        return str(debian)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (apt-get install rabbitmq-server)")
    return found


@dataclass
class Node:
    label: str  # "a", "b", ...: how progress lines name it
    name: str  # the Erlang node name, <prefix>-<label>-<run>@localhost
    amqp_port: int
    dist_port: int
    pid_file: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"amqp://{USER}:{PASSWORD}@127.0.0.1:{self.amqp_port}/{VHOST}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def beam_pid(self) -> int | None:
        """The Erlang VM's OS pid (the start script runs it as a child), once it wrote it."""
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


@dataclass
class RabbitCluster(StartStop):
    """``size`` nodes named ``<prefix>-<letter>-<random>@localhost``, data under ``work_dir``."""

    work_dir: Path
    size: int = 3
    prefix: str = "snapmatch"
    nodes: list[Node] = field(init=False)
    _epmd: subprocess.Popen[bytes] | None = field(init=False, default=None)
    _epmd_port: int = field(init=False)
    # stop() and a restart on another thread (a drill's disruption): no node starts after stop.
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _stopped: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        run = secrets.token_hex(3)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._epmd_port = free_port()
        labels = [chr(ord("a") + i) for i in range(self.size)]
        self.nodes = [
            Node(
                label=label,
                name=f"{self.prefix}-{label}-{run}@localhost",
                amqp_port=free_port(),
                dist_port=free_port(),
                pid_file=self.work_dir / f"node-{label}.pid",
            )
            for label in labels
        ]

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start every node at once and return when they run as one cluster."""
        self._write_files()
        epmd = shutil.which("epmd")
        if epmd is None:
            raise FileNotFoundError("epmd is not installed (it comes with erlang-base)")
        self._epmd = subprocess.Popen(  # noqa: S603 - Erlang's epmd on PATH
            [epmd, "-port", str(self._epmd_port), "-address", "127.0.0.1"],
            env=self._env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for node in self.nodes:
            self._launch(node)
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(self._await_boot, self.nodes))
        wait_until(
            lambda: set(self.cluster_status()["running_nodes"]) == {n.name for n in self.nodes},
            timeout=60,
            what="all nodes to run as one cluster",
        )

    def kill(self, node: Node) -> None:
        """SIGKILL the node's Erlang VM: no goodbye to its peers or its clients."""
        pid = node.beam_pid()
        if pid is not None and node.running:
            os.kill(pid, signal.SIGKILL)
        if node.process is not None:
            node.process.wait(30)

    def restart(self, node: Node) -> None:
        """Start a stopped node again (same name and data) and wait until it has booted."""
        if node.running:
            raise RuntimeError(f"{node.name} is still running")
        self._launch(node)
        self._await_boot(node)

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL after a while) and the private epmd."""
        with self._lock:
            self._stopped = True
        for node in self.nodes:
            pid = node.beam_pid()
            if node.running and pid is not None:
                os.kill(pid, signal.SIGTERM)
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                pid = node.beam_pid()
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(10)
        if self._epmd is not None:
            self._epmd.terminate()
            self._epmd.wait(10)

    # --- looking in -------------------------------------------------------------------------
    def urls(self, first: Node | None = None) -> list[str]:
        """Every node's AMQP URL, ``first`` first, then the others in order."""
        ordered = sorted(self.nodes, key=lambda node: node is not first)
        return [node.url() for node in ordered]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def cluster_status(self) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.ctl("cluster_status", "--formatter", "json"))
        return status

    def quorum_queues(self) -> dict[str, dict[str, Any]]:
        """Each quorum queue of the vhost: its ``leader``, ``members`` and ``online`` nodes."""
        columns = ("name", "type", "leader", "members", "online")
        rows = json.loads(self.ctl("list_queues", "-p", VHOST, *columns, "--formatter", "json"))
        return {row["name"]: row for row in rows if row["type"] == "quorum"}

    def leader_of(self, queue: str) -> Node:
        return self.node(self.quorum_queues()[queue]["leader"])

    def ctl(self, *args: str, node: Node | None = None, timeout: float = 60) -> str:
        """``rabbitmqctl`` against ``node`` (default: the first running one); its stdout."""
        target = node or next(n for n in self.nodes if n.running)
        result = subprocess.run(  # noqa: S603 - the RabbitMQ CLI with our arguments
            [rabbitmq_script("rabbitmqctl"), "-q", "-n", target.name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    # --- internals --------------------------------------------------------------------------
    def _launch(self, node: Node) -> None:
        node.pid_file.unlink(missing_ok=True)
        with self._lock, (self.work_dir / f"node-{node.label}.out").open("ab") as log:
            if self._stopped:
                raise RuntimeError(f"the cluster was stopped; {node.name} stays down")
            node.process = subprocess.Popen(  # noqa: S603 - the RabbitMQ server script
                [rabbitmq_script("rabbitmq-server")],
                env=self._env(node),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C meant for the drill must not reach the nodes before
                # the drill has stopped them in order.
                start_new_session=True,
            )

    def _await_boot(self, node: Node) -> None:
        def registered() -> bool:
            if not node.running:
                raise RuntimeError(f"{node.name} exited; see {self.work_dir}/log")
            return node.beam_pid() is not None

        wait_until(registered, timeout=_BOOT_TIMEOUT_SECONDS, what=f"{node.name} to start")
        deadline = time.monotonic() + _BOOT_TIMEOUT_SECONDS
        while True:  # await_startup fails at once while the node is not yet known to epmd
            try:
                self.ctl("await_startup", "--timeout", "120", node=node, timeout=150)
                return
            except RuntimeError:
                if not node.running or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _write_files(self) -> None:
        home = self.work_dir / "home"
        home.mkdir(exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20))
        cookie.chmod(0o400)
        (self.work_dir / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's
        (self.work_dir / "enabled_plugins").write_text("[].\n")
        peers = "\n".join(
            f"cluster_formation.classic_config.nodes.{i} = {node.name}"
            for i, node in enumerate(self.nodes, start=1)
        )
        (self.work_dir / "rabbitmq.conf").write_text(
            f"default_vhost = {VHOST}\n"
            f"default_user = {USER}\n"
            f"default_pass = {PASSWORD}\n"
            "cluster_formation.peer_discovery_backend = classic_config\n"
            f"{peers}\n"
        )

    def _env(self, node: Node | None = None) -> dict[str, str]:
        """A minimal environment: nothing of the machine's own node leaks in."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin:/usr/sbin:/sbin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.work_dir / "home"),
            "ERL_EPMD_PORT": str(self._epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONF_ENV_FILE": str(self.work_dir / "rabbitmq-env.conf"),
        }
        if node is not None:
            env |= {
                "RABBITMQ_NODENAME": node.name,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(node.amqp_port),
                "RABBITMQ_DIST_PORT": str(node.dist_port),
                "RABBITMQ_MNESIA_BASE": str(self.work_dir / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.work_dir / "log"),
                "RABBITMQ_CONFIG_FILE": str(self.work_dir / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.work_dir / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.work_dir / "enabled_plugins"),
                "RABBITMQ_PID_FILE": str(node.pid_file),
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": _ERL_ARGS,
            }
        return env

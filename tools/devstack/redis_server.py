"""A private redis-server that a test or a drill may kill and restart, disturbing no one."""

import shutil
import subprocess
from pathlib import Path

import redis

from tools.devstack.processes import free_port, wait_until


class RedisServer:
    """``durable``: an append-only file synced on every write, so a SIGKILL loses nothing."""

    def __init__(self, work_dir: Path, *, durable: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (scripts/ensure-tools.sh)")
        self._binary = binary
        self._dir = work_dir
        self.port = free_port()
        self._durable = durable
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, replica_of: int | None = None) -> None:
        """Start (again, on the same port); as a replica of the server on ``replica_of``."""
        log = (self._dir / f"redis-{self.port}.log").open("ab")
        data = self._dir / f"redis-{self.port}"  # its own: replicas write the primary's RDB there
        data.mkdir(exist_ok=True)
        self._process = subprocess.Popen(  # noqa: S603 - the redis-server on PATH
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *(
                    ("--appendonly", "yes", "--appendfsync", "always")
                    if self._durable
                    else ("--appendonly", "no")
                ),
                "--dir",
                str(data),
                # A new replica syncs at once, not after the default 5 s pause.
                "--repl-diskless-sync-delay",
                "0",
                *(("--replicaof", "127.0.0.1", str(replica_of)) if replica_of else ()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, timeout=30, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def _answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

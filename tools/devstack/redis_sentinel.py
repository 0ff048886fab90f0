"""A private replicated Redis watched by Sentinels, on free loopback ports: a primary, a replica
and three ``redis-sentinel`` processes (the Debian package), for the tests and the failover drill.

Nothing is persisted: what survives the primary's death is what the replica had, so a test that
finds an acknowledged result after a failover has shown replication (``WAIT``) at work.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any, cast

import redis

from tools.devstack.processes import StartStop, free_port, wait_until
from tools.devstack.redis_server import RedisServer

SERVICE = "snapmatch"  # the name the Sentinels monitor the primary under
DOWN_AFTER_MS = 1000  # how long the primary may be silent before a Sentinel calls it down
_QUORUM = 2


class SentinelledRedis(StartStop):
    """``servers[0]`` starts as the primary; which one is primary later, the Sentinels say."""

    def __init__(self, work_dir: Path, *, sentinels: int = 3) -> None:
        binary = shutil.which("redis-sentinel")
        if binary is None:
            raise FileNotFoundError("redis-sentinel is not installed (scripts/ensure-tools.sh)")
        self._binary = binary
        self._dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.servers = [RedisServer(work_dir), RedisServer(work_dir)]
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self._sentinels: list[subprocess.Popen[bytes]] = []
        # stop() and a rejoin on another thread (a drill's disruption): none starts after stop.
        self._lock = threading.Lock()
        self._stopped = False

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Primary, replica in sync, then Sentinels that know the replica and each other."""
        primary, replica = self.servers
        primary.start()
        replica.start(replica_of=primary.port)
        wait_until(lambda: self._in_sync(replica), timeout=30, what="the replica's first sync")
        for port in self.sentinel_ports:
            self._sentinels.append(self._start_sentinel(port, primary.port))
        wait_until(self._sentinels_agree, timeout=60, what="the Sentinels to find each other")

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        for process in self._sentinels:
            process.send_signal(signal.SIGTERM)
        for process in self._sentinels:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for server in self.servers:
            server.kill()

    # --- the failover -----------------------------------------------------------------------
    def primary(self) -> RedisServer:
        """The server the Sentinels currently name as primary."""
        port = self._ask_sentinel("get-master-addr-by-name", SERVICE)[1]
        return next(server for server in self.servers if server.port == int(port))

    def kill_primary(self) -> RedisServer:
        """SIGKILL the primary; return it (it stays down until :meth:`rejoin`)."""
        primary = self.primary()
        primary.kill()
        return primary

    def await_promotion(self, old: RedisServer, *, timeout: float = 60) -> RedisServer:
        """Wait until the Sentinels name another primary, and return it."""
        wait_until(
            lambda: self.primary() is not old, timeout=timeout, what="Sentinel to promote a replica"
        )
        return self.primary()

    def rejoin(self, server: RedisServer) -> None:
        """Start a killed server again as a replica of the current primary (what Sentinel's
        rewrite of its configuration would say) and wait until it is in sync."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("the group was stopped; the server stays down")
            server.start(replica_of=self.primary().port)
        wait_until(lambda: self._in_sync(server), timeout=60, what="the old primary to resync")

    # --- settings for the system under test -------------------------------------------------
    def sentinels_setting(self) -> str:
        """``SNAPMATCH_REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def env(self, *, min_replica_acks: int = 1) -> dict[str, str]:
        """The gateway's and the workers' Redis settings for this group."""
        return {
            "SNAPMATCH_REDIS_SENTINELS": self.sentinels_setting(),
            "SNAPMATCH_REDIS_SENTINEL_SERVICE": SERVICE,
            "SNAPMATCH_REDIS_MIN_REPLICA_ACKS": str(min_replica_acks),
        }

    # --- internals --------------------------------------------------------------------------
    def _start_sentinel(self, port: int, primary_port: int) -> subprocess.Popen[bytes]:
        config = self._dir / f"sentinel-{port}.conf"  # Sentinel rewrites it: a file of its own
        config.write_text(
            f"port {port}\n"
            "bind 127.0.0.1\n"
            f"dir {self._dir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} {_QUORUM}\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
        )
        log = (self._dir / f"sentinel-{port}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - the redis-sentinel on PATH
            [self._binary, str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return process

    def _ask_sentinel(self, *command: str) -> list[str]:
        """Ask the first Sentinel that answers."""
        error: Exception | None = None
        for port in self.sentinel_ports:
            try:
                answer: list[str] = _sentinel_command(port, *command)
                return answer
            except redis.RedisError as exc:
                error = exc
        raise RuntimeError(f"no Sentinel answered: {error}")

    def _sentinels_agree(self) -> bool:
        """Every Sentinel sees the others and the replica, so a failover can happen."""
        for port in self.sentinel_ports:
            try:
                state = _sentinel_command(port, "MASTER", SERVICE)
            except redis.RedisError:
                return False
            fields = dict(zip(state[::2], state[1::2], strict=True))
            if int(fields["num-other-sentinels"]) < len(self.sentinel_ports) - 1:
                return False
            if int(fields["num-slaves"]) < len(self.servers) - 1:
                return False
        return True

    @staticmethod
    def _in_sync(server: RedisServer) -> bool:
        client = redis.Redis(port=server.port, socket_timeout=2, decode_responses=True)
        try:
            info = cast(dict[str, Any], client.info("replication"))
        except redis.RedisError:
            return False
        finally:
            client.close()
        return info.get("role") == "slave" and info.get("master_link_status") == "up"


def _sentinel_command(port: int, *command: str) -> Any:
    """One ``SENTINEL ...`` command, its reply unparsed (lists of strings)."""
    client = redis.Redis(port=port, socket_timeout=2, decode_responses=True)
    try:
        return client.execute_command("SENTINEL", *command)  # type: ignore[no-untyped-call]
    finally:
        client.close()

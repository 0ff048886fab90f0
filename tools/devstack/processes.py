"""Run a snapmatch module as a process of its own, its output in a log file."""

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

REPO_ROOT = Path(__file__).resolve().parents[2]

# What a worker logs right before each model run (worker.processor), with task_id and attempt.
MODEL_RUN_EVENT = "running the model"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class StartStop:
    """``with`` for things that ``start()`` several processes: whatever did start is stopped
    again when starting fails half-way, and at the end of the block."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int = 0  # a worker's Prometheus port (0: none)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, event: str) -> list[dict[str, Any]]:
        """The process's JSON log lines whose ``event`` is ``event``, parsed."""
        lines = (line for line in self.log().splitlines() if event in line)
        return [fields for fields in map(json.loads, lines) if fields.get("event") == event]

    def model_runs(self) -> list[dict[str, Any]]:
        """A worker's "running the model" lines (one before each run, with task_id, attempt)."""
        return self.events(MODEL_RUN_EVENT)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, sig: signal.Signals) -> None:
        self.popen.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


def spawn(
    name: str, module: str, env: dict[str, str], log_dir: Path, *, root: Path = REPO_ROOT
) -> Process:
    """``python -m module`` from the repository root (or another checkout's, ``root``), stdout
    and stderr in ``<name>.log``."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: S603 - this interpreter and a module of ours
            [sys.executable, "-m", module],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Process(name, popen, log_path)

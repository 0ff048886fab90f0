"""What /proc says: CPU time and peak memory of processes, the machine's busy time, the
machine itself."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import onnxruntime as ort

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mb(pid: int | str = "self") -> float:
    """Resident memory now (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pids_named(*names: str) -> list[int]:
    """Pids of running programs by command name (the broker and Redis), readable or not."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def pids_listening(port: int) -> list[int]:
    """Pids of the processes listening on TCP ``port``: this stack's broker and Redis, not
    every beam.smp or redis-server on a machine where others run their own."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                listening = fields[3] == "0A"
                if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                found.append(int(entry.name))
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


@dataclass
class CpuMeter:
    """CPU used by named processes (and the whole machine) over one measured interval.

    After the ``with`` block: ``seconds`` of CPU by role, and ``percent`` of one core by role,
    plus ``"machine"``: every core's busy time, other programs included.
    """

    pids: dict[str, list[int]]
    seconds: dict[str, float] = field(default_factory=dict)
    percent: dict[str, float] = field(default_factory=dict)
    _start_machine: tuple[float, float] = (0.0, 0.0)
    _start_wall: float = 0.0

    _start_pids: dict[int, float] = field(default_factory=dict)

    def _sample(self) -> dict[int, float]:
        """CPU seconds by pid, of the pids that are alive."""
        sample = {}
        for pids in self.pids.values():
            for pid in pids:
                try:
                    sample[pid] = cpu_seconds(pid)
                except OSError:
                    continue
        return sample

    def __enter__(self) -> CpuMeter:
        self._start_pids = self._sample()
        self._start_machine = machine_busy_seconds()
        self._start_wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._start_wall
        end = self._sample()
        # Only processes alive at both ends: one that exited (or was born) meanwhile has no
        # delta to give, and its absolute CPU time must not count as spent in the interval.
        both = end.keys() & self._start_pids.keys()
        self.seconds = {
            role: sum(end[p] - self._start_pids[p] for p in pids if p in both)
            for role, pids in self.pids.items()
        }
        self.percent = {r: 100 * used / wall for r, used in self.seconds.items()}
        busy, total = machine_busy_seconds()
        elapsed = total - self._start_machine[1]  # 0 within one clock tick
        busy_share = (busy - self._start_machine[0]) / elapsed if elapsed else 0.0
        self.percent["machine"] = 100 * (os.cpu_count() or 1) * busy_share


def machine_description() -> list[str]:
    """Markdown bullets: date, CPU, memory, OS, Python, onnxruntime and the load right now."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    busy = os.getloadavg()[0] >= 0.5 * (os.cpu_count() or 1)
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {os.cpu_count()} x {cpu}; memory {mem_kb / 1024 / 1024:.1f} GiB",
        f"- OS: {platform.platform()}; Python {platform.python_version()}; "
        f"onnxruntime {ort.__version__} ({', '.join(ort.get_available_providers())})",
        f"- Load average when the run started: {load}"
        + (" (**the machine was already busy: expect noisy numbers**)" if busy else ""),
    ]

"""What the benchmark reads from /proc: the servers by their port, CPU deltas by process."""

import os
import socket
import subprocess
import sys
import time

from tools.bench.system import CpuMeter, pids_listening


def test_a_server_is_found_by_the_port_it_listens_on() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert pids_listening(port) == [os.getpid()]
    assert pids_listening(port) == []


def test_a_process_that_exits_during_the_interval_adds_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)  # its interpreter's start-up has used CPU by now
        with CpuMeter({"gone": [child.pid]}) as meter:
            child.kill()
            child.wait()
    finally:
        child.kill()
    assert meter.seconds == {"gone": 0.0}

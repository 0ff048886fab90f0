"""The page's pure JavaScript modules (web/src: errors, retries, messages, the API client, the
server mode, the on-device preprocessing, scores and model cache), tested with Node's own test
runner."""

import shutil
import subprocess

import pytest

from tools.devstack import REPO_ROOT


def test_the_pages_javascript_units_pass() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node 20.19+ builds and tests the web page)")
    run = subprocess.run(
        [str(REPO_ROOT / "scripts" / "web.sh"), "test"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    passed = [line for line in output.splitlines() if line.startswith("# pass ")]
    assert passed and int(passed[0].split()[-1]) >= 20, output

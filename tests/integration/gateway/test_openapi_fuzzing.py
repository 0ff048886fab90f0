"""Schemathesis fuzzes the running gateway from its own /openapi.json, with a valid token:
no 5xx, every response (status, headers, body) as declared, invalid input refused, auth enforced.
"""

import re
import subprocess
import sys
from pathlib import Path

from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 30  # per operation and phase: bounded so that the suite stays quick


def test_the_api_holds_to_its_openapi_schema(
    stack: Stack, user: SignedInUser, tmp_path: Path
) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(CONFIG),
            "run",
            f"{stack.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {user.id_token}",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "20261123",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its failure cache (.schemathesis/) stays out of the checkout
    )
    output = run.stdout + run.stderr
    print(output[-3000:])
    assert run.returncode == 0, output[-20000:]
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    assert tested is not None and cases is not None, output
    assert int(tested.group(1)) >= 4  # predict, result, health, ready (and any newer ones)
    assert int(cases.group(1)) >= 100

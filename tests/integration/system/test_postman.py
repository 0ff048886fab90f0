"""The Postman collection in docs/postman/, run by newman against a live gateway and worker.

A failing assertion in the collection fails this test; the second test proves it by pointing
the collection at a gateway that cannot accept uploads.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.catalog.seed import SeedCatalog
from tools.devstack import REPO_ROOT, Stack
from tools.devstack.emulator import DEFAULT_HOST as AUTH_EMULATOR_HOST
from tools.devstack.emulator import unique_email

POSTMAN_DIR = REPO_ROOT / "docs" / "postman"
COLLECTION = POSTMAN_DIR / "snapmatch.postman_collection.json"
ENVIRONMENT = POSTMAN_DIR / "snapmatch.postman_environment.json"
NEWMAN = REPO_ROOT / "scripts" / "newman.sh"


def run_newman(base_url: str, report: Path) -> tuple[int, str, dict[str, Any]]:
    """Run the collection as a Postman user would, with the environment's URLs pointed at
    the test's gateway and emulator and a fresh user; returns (exit code, CLI output, report)."""
    auth_base = f"http://{AUTH_EMULATOR_HOST}/identitytoolkit.googleapis.com"
    cmd = [
        str(NEWMAN), "run", str(COLLECTION),
        "--environment", str(ENVIRONMENT),
        "--env-var", f"baseUrl={base_url}",
        "--env-var", f"authBaseUrl={auth_base}",
        "--env-var", f"email={unique_email('postman')}",
        "--working-dir", str(POSTMAN_DIR / "files"),
        "--reporters", "cli,json",
        "--reporter-json-export", str(report),
        # Above the server's 30 s cap on a long-poll (`GET /result/{id}?wait=30`).
        "--timeout-request", "60000",
        "--color", "off",
        "--disable-unicode",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as exc:
        # A request left open keeps node's event loop, and newman, alive after the summary.
        pytest.fail(
            f"newman did not exit within {exc.timeout:.0f} s (report written: "
            f"{report.is_file()}):\n{_text(exc.stdout)}{_text(exc.stderr)}"
        )
    output = proc.stdout + proc.stderr
    assert report.is_file(), f"newman wrote no report (exit {proc.returncode}):\n{output}"
    return proc.returncode, output, json.loads(report.read_text())


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def _failed_assertions(report: dict[str, Any]) -> list[str]:
    return [
        f"{failure['source']['name']} / {failure['error'].get('test')}: "
        f"{failure['error']['message']}"
        for failure in report["run"]["failures"]
    ]


def test_the_postman_collection_passes_against_a_live_stack(
    stack: Stack, seeded_catalog: SeedCatalog, tmp_path: Path
) -> None:
    code, output, report = run_newman(stack.base_url, tmp_path / "newman.json")
    assert code == 0, output
    stats = report["run"]["stats"]
    assert stats["assertions"]["failed"] == 0 and stats["requests"]["failed"] == 0, output
    assert stats["testScripts"]["failed"] == 0 and stats["prerequestScripts"]["failed"] == 0
    # Every request's tests, each run once (more when the result was still pending).
    assert stats["assertions"]["total"] >= 68, output
    executed = {e["item"]["name"] for e in report["run"]["executions"]}
    collection = json.loads(COLLECTION.read_text())
    every_request = {item["name"] for folder in collection["item"] for item in folder["item"]}
    assert executed == every_request
    print(output)  # newman's per-request results and summary table, shown with `pytest -s`


def test_a_failing_assertion_fails_the_newman_run(
    gateway_without_redis: Stack, tmp_path: Path
) -> None:
    code, output, report = run_newman(gateway_without_redis.base_url, tmp_path / "newman.json")
    assert code != 0, output
    failures = _failed_assertions(report)
    assert any("200 ready" in failure for failure in failures), failures
    assert any("202 queued" in failure for failure in failures), failures


def test_the_collection_declares_the_size_of_the_photo_it_puts() -> None:
    """The direct upload signs the exact size; the collection's variable must be the file's."""
    collection = json.loads(COLLECTION.read_text())
    declared = {v["key"]: v["value"] for v in collection["variable"]}["catJpegBytes"]
    assert int(declared) == (POSTMAN_DIR / "files" / "cat.jpg").stat().st_size

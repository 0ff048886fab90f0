"""docker-compose.yml, Dockerfile and .dockerignore are valid and fit together.

No Docker daemon is needed: `docker-compose config` only parses, validates and interpolates.
The test runs Debian's docker-compose 1.29 (installed by scripts/ensure-tools.sh); set
SNAPMATCH_TEST_COMPOSE (e.g. "docker compose") to check with another Compose instead.
"""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # PyYAML via uvicorn[standard]

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
EXPECTED_SERVICES = {"gateway", "worker", "rabbitmq", "redis", "auth-emulator"}
PROFILES: list[list[str]] = [[], ["--profile", "dev"]]


def compose_cmd() -> list[str]:
    """The Compose command line; fails (never skips) the calling test when there is none."""
    override = os.environ.get("SNAPMATCH_TEST_COMPOSE")
    if override:
        return shlex.split(override)
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail(
            "docker-compose is not installed: run scripts/ensure-tools.sh (or `make tools`)",
            pytrace=False,
        )
    return [exe]


@pytest.fixture(scope="module")
def empty_env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keeps a developer's `.env` (pydantic settings for the host) out of the interpolation."""
    path = tmp_path_factory.mktemp("compose") / "empty.env"
    path.write_text("")
    return path


def compose(env_file: Path, *args: str) -> str:
    cmd = [*compose_cmd(), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *args]
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, (
        f"`{shlex.join(cmd)}` exited {proc.returncode}\n"
        f"--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}"
    )
    return proc.stdout


@pytest.mark.parametrize("profile", PROFILES, ids=["default", "dev"])
def test_compose_file_is_valid(empty_env_file: Path, profile: list[str]) -> None:
    compose(empty_env_file, *profile, "config", "-q")


def test_compose_defines_all_services(empty_env_file: Path) -> None:
    out = compose(empty_env_file, "--profile", "dev", "config", "--services")
    services = set(out.split())
    assert services >= EXPECTED_SERVICES, f"missing: {sorted(EXPECTED_SERVICES - services)}"


@pytest.mark.parametrize("profile", PROFILES, ids=["default", "dev"])
def test_worker_can_scale(empty_env_file: Path, profile: list[str]) -> None:
    """`docker compose up --scale worker=3` needs a worker with no host port, no fixed name."""
    resolved: dict[str, Any] = yaml.safe_load(compose(empty_env_file, *profile, "config"))
    worker = resolved["services"]["worker"]
    assert not worker.get("ports"), f"worker publishes host ports: {worker['ports']}"
    assert "container_name" not in worker
    assert worker.get("build", {}).get("target") == "worker"
    assert resolved["services"]["gateway"].get("build", {}).get("target") == "gateway"


def test_dockerfile_defines_targets() -> None:
    stages = re.findall(
        r"^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$",
        DOCKERFILE.read_text(),
        flags=re.IGNORECASE | re.MULTILINE,
    )
    assert set(stages) >= {"gateway", "worker"}, f"Dockerfile stages: {stages}"


def test_dockerignore_keeps_secrets_out() -> None:
    rules = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert rules and rules[0] == "*", ".dockerignore should be an allow-list starting with '*'"
    reincluded = [rule for rule in rules if rule.startswith("!")]
    assert not [rule for rule in reincluded if "secret" in rule or ".env" in rule], reincluded


@pytest.mark.parametrize("service", ["gateway", "worker"])
def test_app_services_are_limited_checked_and_non_root(empty_env_file: Path, service: str) -> None:
    resolved: dict[str, Any] = yaml.safe_load(compose(empty_env_file, "config"))
    spec = resolved["services"][service]
    assert spec["healthcheck"]["test"], f"{service} has no healthcheck"
    limits = spec["deploy"]["resources"]["limits"]
    assert limits.get("cpus") and limits.get("memory"), f"{service} limits: {limits}"
    target = spec["build"]["target"]
    # The runtime stage both app images build on switches to the unprivileged user.
    stages = re.split(r"^FROM ", DOCKERFILE.read_text(), flags=re.MULTILINE)
    runtime = next(stage for stage in stages if re.match(r"\S+ AS runtime\b", stage))
    assert re.search(r"^USER snapmatch$", runtime, flags=re.MULTILINE)
    assert any(re.match(rf"runtime AS {target}\b", stage) for stage in stages), target

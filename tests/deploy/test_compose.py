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
EXPECTED_SERVICES = {
    "gateway",
    "worker",
    "rabbitmq",
    "redis",
    "auth-emulator",
    "minio",
    "minio-buckets",
}
PROFILES: list[list[str]] = [[], ["--profile", "dev"], ["--profile", "observability"]]
PROFILE_IDS = ["default", "dev", "observability"]


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


@pytest.mark.parametrize("profile", PROFILES, ids=PROFILE_IDS)
def test_compose_file_is_valid(empty_env_file: Path, profile: list[str]) -> None:
    compose(empty_env_file, *profile, "config", "-q")


def test_compose_defines_all_services(empty_env_file: Path) -> None:
    out = compose(empty_env_file, "--profile", "dev", "config", "--services")
    services = set(out.split())
    assert services >= EXPECTED_SERVICES, f"missing: {sorted(EXPECTED_SERVICES - services)}"


@pytest.mark.parametrize("profile", PROFILES, ids=PROFILE_IDS)
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


def _bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host folder of a resolved service's bind mounts (Compose v2 writes
    them in the long syntax, docker-compose 1.29 as `source:target:mode`)."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
            if source.startswith("/"):
                mounts[target] = Path(source)
        elif volume.get("type") == "bind":
            mounts[volume["target"]] = Path(volume["source"])
    return mounts


def test_the_observability_profile_provisions_prometheus_and_grafana(empty_env_file: Path) -> None:
    """Prometheus gets the scrape config and the alert rules, Grafana the data sources and the
    dashboard: every mounted folder exists and holds what the service is told to load."""
    resolved: dict[str, Any] = yaml.safe_load(
        compose(empty_env_file, "--profile", "observability", "config")
    )
    services = resolved["services"]
    mounts = {
        (name, target): source
        for name in ("prometheus", "grafana")
        for target, source in _bind_mounts(services[name]).items()
    }
    prometheus_dir = mounts["prometheus", "/etc/prometheus"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    assert {"prometheus.yml", "alerts.yml"} <= {p.name for p in prometheus_dir.iterdir()}
    provisioning = mounts["grafana", "/etc/grafana/provisioning"]
    assert (provisioning / "datasources").is_dir() and (provisioning / "dashboards").is_dir()
    assert (mounts["grafana", "/var/lib/grafana/dashboards"] / "snapmatch.json").is_file()
    # The scrape targets are the compose services and the ports they serve metrics on.
    scrape = yaml.safe_load((prometheus_dir / "prometheus.yml").read_text())["scrape_configs"]
    assert scrape[0]["static_configs"][0]["targets"] == ["gateway:8000"]
    worker_port = services["worker"]["environment"]["SNAPMATCH_WORKER_METRICS_PORT"]
    assert scrape[1]["dns_sd_configs"][0] == {
        "names": ["worker"],
        "type": "A",
        "port": int(worker_port),
    }


def test_the_apps_use_minio_and_wait_for_its_private_bucket(empty_env_file: Path) -> None:
    """Gateway and workers reach MinIO inside the network, sign URLs for the published port,
    and start once the one-shot service has created the bucket they are configured with."""
    resolved: dict[str, Any] = yaml.safe_load(compose(empty_env_file, "config"))
    services = resolved["services"]
    minio_ports = _published_ports(services["minio"])
    assert {"9000", "9001"} <= minio_ports, minio_ports
    script = " ".join(services["minio-buckets"]["entrypoint"])
    for name in ("gateway", "worker"):
        env = services[name]["environment"]
        assert env["SNAPMATCH_OBJECT_STORE_ENDPOINT_URL"] == "http://minio:9000"
        assert env["SNAPMATCH_OBJECT_STORE_PUBLIC_URL"] == "http://127.0.0.1:9000"
        bucket = env["SNAPMATCH_OBJECT_STORE_BUCKET"]
        assert f"mc mb --ignore-existing local/{bucket}" in script
        assert f"mc anonymous set none local/{bucket}" in script
        depends = services[name]["depends_on"]
        assert depends["minio-buckets"]["condition"] == "service_completed_successfully"


def _published_ports(service: dict[str, Any]) -> set[str]:
    """Host ports in either syntax (`127.0.0.1:9000:9000`, or the long form)."""
    return {
        port.split(":")[-2] if isinstance(port, str) else str(port["published"])
        for port in service.get("ports", [])
    }

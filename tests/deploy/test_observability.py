"""The Prometheus alert rules, their unit tests and the Grafana dashboard in deploy/.

promtool (Debian's `prometheus` package, installed by scripts/ensure-tools.sh) validates the
rules and the scrape config and runs the rules' unit tests (deploy/prometheus/alerts.test.yml);
every series the rules and the dashboard query must be one the gateway or a worker exports.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # PyYAML via uvicorn[standard]
from prometheus_client import CollectorRegistry

from app.core.metrics import GatewayMetrics
from worker.metrics import WorkerMetrics

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "alerts.yml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "dashboards" / "snapmatch.json"
_SERIES = re.compile(r"\b(?:snapmatch|process)_[a-z_]+\b")
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
}


def promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> str:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail(
            "promtool is not installed: run scripts/ensure-tools.sh (or `make tools`)",
            pytrace=False,
        )
    proc = subprocess.run(
        [exe, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"promtool {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def _exported(registry: CollectorRegistry) -> set[str]:
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in _SUFFIXES.get(family.type, ("",))
    }


def exported_series() -> set[str]:
    return _exported(GatewayMetrics().registry) | _exported(WorkerMetrics().registry)


def dashboard_queries() -> list[str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_the_alert_rules_are_valid() -> None:
    assert "SUCCESS: 8 rules found" in promtool("check", "rules", "alerts.yml")


def test_the_alert_rules_pass_their_unit_tests() -> None:
    promtool("test", "rules", "alerts.test.yml")


def test_the_prometheus_config_is_valid_and_loads_the_rules() -> None:
    assert "1 rule files found" in promtool("check", "config", "prometheus.yml")


def test_every_alert_is_unit_tested() -> None:
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts.test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    groups = yaml.safe_load(RULES.read_text())["groups"]
    assert tested == {rule["alert"] for group in groups for rule in group["rules"]}


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_only_exported_series_are_queried(source: str) -> None:
    expressions = rule_expressions() if source == "alerts" else dashboard_queries()
    queried = {name for expr in expressions for name in _SERIES.findall(expr)}
    assert queried, "no snapmatch series found"
    assert queried <= exported_series(), sorted(queried - exported_series())


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query, as a recording rule, with Grafana's interval filled in."""
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {
                        "record": f"dashboard:query_{i}",
                        "expr": expr.replace("$__rate_interval", "5m"),
                    }
                    for i, expr in enumerate(dashboard_queries())
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    promtool("check", "rules", "dashboard.yml", cwd=tmp_path)


def test_the_dashboard_shows_what_an_operator_looks_for() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in panels)
    queries = " ".join(dashboard_queries())
    for series in (
        "snapmatch_worker_tasks_total",  # throughput
        "snapmatch_http_request_duration_seconds_bucket",  # latency per stage
        "snapmatch_task_publish_duration_seconds_bucket",
        "snapmatch_worker_queue_wait_seconds_bucket",
        "snapmatch_worker_preprocess_seconds_bucket",
        "snapmatch_worker_inference_seconds_bucket",
        "snapmatch_queue_messages",  # queue depth
        "snapmatch_queue_consumers",  # consumers
        "snapmatch_worker_task_failures_total",  # failures by code
        "snapmatch_http_retry_later_responses_total",  # 429 and 503
    ):
        assert series in queries, series

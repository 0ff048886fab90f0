"""deploy/k8s/ is valid Kubernetes and KEDA, offline, and its pieces fit together.

Built-in kinds are checked strictly (unknown fields rejected) against the Kubernetes schemas
bundled in the PyPI package kubernetes-validate; KEDA's kinds against the JSON Schemas shipped
in deploy/k8s/schemas/. No cluster is needed.
"""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # PyYAML via uvicorn[standard]

from config import Settings

K8S_DIR = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # oldest release still common in managed clusters
KEDA_SCHEMAS = {
    "ScaledObject": K8S_DIR / "schemas" / "keda.sh_v1alpha1_scaledobject.json",
    "TriggerAuthentication": K8S_DIR / "schemas" / "keda.sh_v1alpha1_triggerauthentication.json",
}
Resource = dict[str, Any]


def _kustomization() -> Resource:
    loaded: Resource = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    return loaded


def _resources() -> list[Resource]:
    docs: list[Resource] = []
    for name in _kustomization()["resources"]:
        docs.extend(d for d in yaml.safe_load_all((K8S_DIR / name).read_text()) if d)
    return docs


def _one(kind: str, name: str) -> Resource:
    [found] = [r for r in _resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def validate(resource: Resource) -> None:
    """Raise when the resource does not match its schema."""
    schema_path = KEDA_SCHEMAS.get(resource["kind"])
    if resource["apiVersion"].startswith("keda.sh/"):
        assert schema_path is not None, f"no schema shipped for KEDA kind {resource['kind']}"
        jsonschema.validate(resource, json.loads(schema_path.read_text()))
    else:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest() -> None:
    listed = set(_kustomization()["resources"])
    on_disk = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize(
    "resource", _resources(), ids=lambda r: f"{r['kind']}/{r['metadata']['name']}"
)
def test_every_manifest_matches_its_schema(resource: Resource) -> None:
    validate(resource)


def test_a_misspelt_field_fails_the_check() -> None:
    scaled = copy.deepcopy(_one("ScaledObject", "snapmatch-worker"))
    scaled["spec"]["maxReplicas"] = scaled["spec"].pop("maxReplicaCount")
    with pytest.raises(jsonschema.ValidationError, match="maxReplicas"):
        validate(scaled)
    trigger = copy.deepcopy(_one("ScaledObject", "snapmatch-worker"))
    trigger["spec"]["triggers"][0]["metadata"]["mode"] = "QueueSize"
    with pytest.raises(jsonschema.ValidationError, match="QueueSize"):
        validate(trigger)
    deployment = copy.deepcopy(_one("Deployment", "snapmatch-worker"))
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_keda_scales_the_worker_deployment_on_the_task_queue() -> None:
    scaled = _one("ScaledObject", "snapmatch-worker")
    target = scaled["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "snapmatch-worker")
    assert "replicas" not in _one("Deployment", "snapmatch-worker")["spec"], "KEDA owns it"
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["mode"] == "QueueLength"
    config = _one("ConfigMap", "snapmatch-config")["data"]
    assert trigger["metadata"]["queueName"] == config["SNAPMATCH_TASK_QUEUE"]
    auth = _one("TriggerAuthentication", trigger["authenticationRef"]["name"])
    [ref] = auth["spec"]["secretTargetRef"]
    assert (ref["parameter"], ref["name"], ref["key"]) == ("host", "snapmatch-secrets", "amqp-url")
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]


def test_the_config_map_holds_only_real_settings() -> None:
    config = _one("ConfigMap", "snapmatch-config")["data"]
    known = {f"SNAPMATCH_{name.upper()}" for name in Settings.model_fields}
    assert set(config) <= known, sorted(set(config) - known)
    Settings.model_validate(  # the values parse, and production refuses emulator auth
        {k.removeprefix("SNAPMATCH_").lower(): v for k, v in config.items()}
    )


@pytest.mark.parametrize("name", ["snapmatch-gateway", "snapmatch-worker"])
def test_pods_run_non_root_with_limits_and_probes(name: str) -> None:
    deployment = _one("Deployment", name)
    template = deployment["spec"]["template"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items()
        <= template["metadata"]["labels"].items()
    )
    pod = template["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's snapmatch user
    for container in pod["containers"]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert "livenessProbe" in container
    annotations = template["metadata"]["annotations"]
    ports = {p["containerPort"] for c in pod["containers"] for p in c["ports"]}
    assert int(annotations["prometheus.io/port"]) in ports


def test_the_worker_metrics_port_matches_its_settings() -> None:
    config = _one("ConfigMap", "snapmatch-config")["data"]
    worker = _one("Deployment", "snapmatch-worker")["spec"]["template"]["spec"]
    [port] = worker["containers"][0]["ports"]
    assert port["containerPort"] == int(config["SNAPMATCH_WORKER_METRICS_PORT"])
    assert config["SNAPMATCH_WORKER_METRICS_HOST"] == "0.0.0.0"
    timeout = float(config["SNAPMATCH_WORKER_SHUTDOWN_TIMEOUT_SECONDS"])
    assert timeout < worker["terminationGracePeriodSeconds"]


def test_the_gateway_service_selects_the_gateway_pods() -> None:
    service = _one("Service", "snapmatch-gateway")
    labels = _one("Deployment", "snapmatch-gateway")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


@pytest.mark.parametrize("name", ["snapmatch-gateway", "snapmatch-worker"])
def test_cluster_addresses_and_sentinel_password_come_from_the_secret_when_present(
    name: str,
) -> None:
    [container] = _one("Deployment", name)["spec"]["template"]["spec"]["containers"]
    refs = {
        env["name"]: env["valueFrom"]["secretKeyRef"]
        for env in container["env"]
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    for setting, key in [
        ("SNAPMATCH_AMQP_URLS", "amqp-urls"),
        ("SNAPMATCH_REDIS_SENTINEL_PASSWORD", "redis-sentinel-password"),
    ]:
        assert setting.removeprefix("SNAPMATCH_").lower() in Settings.model_fields
        assert refs[setting] == {"name": "snapmatch-secrets", "key": key, "optional": True}

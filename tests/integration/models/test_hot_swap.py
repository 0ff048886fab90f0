"""Operating the registry while the system runs: a model replaced under load, a model added,
a corrupt file refused at publish time, and one damaged on disk after publishing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.model_registry import read_manifest
from tests.support.client import auth, poll, upload
from tests.support.imagenet import CAT_CLASSES
from tests.support.metrics import scrape, value
from tests.support.models import copy_registry, damage, new_version
from tools.devstack import REPO_ROOT, Stack, delete_queue, wait_until
from tools.devstack.emulator import SignedInUser

LITE0 = "efficientnet-lite0"
POLL_SECONDS = "0.5"


def publish(registry: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """What an operator runs: ``python -m tools.model.publish --registry ... ``."""
    return subprocess.run(
        [sys.executable, "-m", "tools.model.publish", "--registry", str(registry), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# One registry and one stack for the module: each test changes a different model.
@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, built_model: Path) -> Path:
    return copy_registry(tmp_path_factory.mktemp("registry") / "registry", built_model)


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory, registry: Path) -> Iterator[Stack]:
    """A gateway and a worker serving a registry of their own, polling it twice a second."""
    log_dir = tmp_path_factory.mktemp("live-stack")
    stack = Stack(
        queue=f"tasks-swap-{uuid.uuid4().hex[:8]}",
        log_dir=log_dir,
        env_overrides={
            "SNAPMATCH_MODEL_REGISTRY": str(registry),
            "SNAPMATCH_MODEL_REGISTRY_POLL_SECONDS": POLL_SECONDS,
        },
    )
    try:
        stack.start_gateway()
        stack.start_worker()
        yield stack
    finally:
        stack.stop()
        delete_queue(stack.queue)


def _version(stack: Stack, user: SignedInUser, name: str) -> str | None:
    response = httpx.get(f"{stack.base_url}/models/{name}", headers=auth(user.id_token))
    return response.json()["version"] if response.status_code == 200 else None


def test_a_model_replaced_under_load_loses_no_task(
    live_stack: Stack, registry: Path, user: SignedInUser, cat_jpeg: bytes, tmp_path: Path
) -> None:
    old = read_manifest(registry).models[LITE0].version
    replacement = new_version(LITE0, tmp_path / "build")
    task_ids: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def keep_uploading() -> None:
        while not stop.is_set():
            response = upload(live_stack.base_url, user.id_token, cat_jpeg, model=LITE0)
            if response.status_code == 202:
                task_ids.append(response.json()["task_id"])
            else:
                refused.append(response.text)
            time.sleep(0.02)

    clients = [threading.Thread(target=keep_uploading) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        wait_until(lambda: len(task_ids) >= 20, timeout=60, what="uploads before the swap")
        published = publish(registry, str(replacement))
        assert published.returncode == 0, published.stderr
        new = read_manifest(registry).models[LITE0].version
        assert new != old
        wait_until(lambda: _version(live_stack, user, LITE0) == new, timeout=10, what="the gateway")
        swapped_at = len(task_ids)
        wait_until(lambda: len(task_ids) >= swapped_at + 30, timeout=60, what="more uploads")
    finally:
        stop.set()
        for client in clients:
            client.join()

    results = [poll(live_stack.base_url, user.id_token, t, timeout=120) for t in task_ids]
    assert refused == []
    assert [r["status"] for r in results] == ["done"] * len(results)
    versions = [r["model"]["version"] for r in results]
    assert set(versions) == {old, new}
    assert versions[-1] == new  # uploads after the swap ran the new version
    assert all(r["predictions"][0]["class_id"] in CAT_CLASSES for r in results)
    [worker] = live_stack.workers
    assert worker.alive
    assert [e["models"][LITE0] for e in worker.events("model registry changed")][:1] == [new]
    samples = scrape(f"http://127.0.0.1:{worker.metrics_port}/metrics")
    assert value(samples, "snapmatch_worker_model_loaded", model=LITE0, version=new) == 1
    assert value(samples, "snapmatch_worker_model_loaded", model=LITE0, version=old) == 0
    assert value(samples, "snapmatch_worker_model_loads_total", model=LITE0, outcome="failed") == 0


def test_a_corrupt_file_is_refused_at_publish_time_and_never_served(
    live_stack: Stack, registry: Path, user: SignedInUser, tmp_path: Path
) -> None:
    good = new_version("efficientnet-lite1", tmp_path / "good")
    truncated = tmp_path / "bad" / "efficientnet-lite1.onnx"
    truncated.parent.mkdir()
    truncated.write_bytes(good.read_bytes()[:100_000])
    card = good.with_name(good.name + ".json")
    truncated.with_name(truncated.name + ".json").write_bytes(card.read_bytes())
    before = (registry / "models.json").read_bytes()

    refused = publish(registry, str(truncated))
    assert refused.returncode == 2
    assert "refused:" in refused.stderr and "SHA-256" in refused.stderr
    assert (registry / "models.json").read_bytes() == before
    assert sorted(p.name for p in (registry / "efficientnet-lite1").iterdir()) == [
        f"{read_manifest(registry).models['efficientnet-lite1'].version}.onnx"
    ]


def test_a_model_added_while_running_can_be_chosen_at_once(
    live_stack: Stack, registry: Path, user: SignedInUser, cat_jpeg: bytes
) -> None:
    removed = publish(registry, "--remove", "efficientnet-lite2-int8")
    assert removed.returncode == 0, removed.stderr
    wait_until(
        lambda: _version(live_stack, user, "efficientnet-lite2-int8") is None,
        timeout=10,
        what="the gateway to drop the model",
    )
    refused = upload(live_stack.base_url, user.id_token, cat_jpeg, model="efficientnet-lite2-int8")
    assert refused.status_code == 422 and refused.json()["error"] == "unknown_model"

    built = REPO_ROOT / "build" / "model" / "efficientnet-lite2-int8.onnx"
    added = publish(registry, str(built))
    assert added.returncode == 0, added.stderr
    wait_until(
        lambda: _version(live_stack, user, "efficientnet-lite2-int8") is not None,
        timeout=10,
        what="the gateway to list the model",
    )
    time.sleep(float(POLL_SECONDS) * 3)  # the worker follows the registry at the same pace
    response = upload(live_stack.base_url, user.id_token, cat_jpeg, model="efficientnet-lite2-int8")
    assert response.status_code == 202, response.text
    result = poll(live_stack.base_url, user.id_token, response.json()["task_id"])
    assert result["status"] == "done"
    assert result["model"]["name"] == "efficientnet-lite2-int8"


def test_a_model_damaged_after_publishing_fails_its_tasks_not_the_worker(
    live_stack: Stack, registry: Path, user: SignedInUser, cat_jpeg: bytes
) -> None:
    entry = read_manifest(registry).models["efficientnet-lite1"]
    damage(registry, entry)

    def run(model: str) -> dict[str, Any]:
        response = upload(live_stack.base_url, user.id_token, cat_jpeg, model=model)
        assert response.status_code == 202, response.text
        return poll(live_stack.base_url, user.id_token, response.json()["task_id"])

    failed = [run("efficientnet-lite1") for _ in range(2)]
    for result in failed:
        assert result["status"] == "failed"
        assert result["error"]["code"] == "model_unavailable"
        assert "SHA-256" in result["error"]["message"]
        assert result["model"] == {"name": "efficientnet-lite1", "version": entry.version}
    assert run(LITE0)["status"] == "done"  # the worker lives on and serves the others
    [worker] = live_stack.workers
    assert worker.alive
    failures = [e for e in worker.events("model failed to load") if e["model"] == entry.name]
    assert len(failures) == 1  # tried once, not once per task

    download = httpx.get(
        f"{live_stack.base_url}/models/efficientnet-lite1/download",
        headers=auth(user.id_token),
        timeout=30,
    )
    assert download.status_code == 503
    assert download.json()["error"] == "model_unavailable"

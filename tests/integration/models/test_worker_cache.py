"""A worker's model cache through the real system: preloaded models are warm, a model not
loaded yet is loaded on first use (and says what it cost), the least recently used one makes
room, and the worker's metrics show all of it."""

from __future__ import annotations

from typing import Any

from tests.support.client import poll, upload
from tests.support.metrics import scrape, value
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser

LITE0, LITE1, LITE2 = "efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"


def test_models_load_on_first_use_and_the_least_recently_used_is_unloaded(
    private_stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    worker = private_stack.start_worker(
        SNAPMATCH_WORKER_MAX_MODELS="2", SNAPMATCH_WORKER_PRELOAD_MODELS=LITE2
    )
    metrics_url = f"http://127.0.0.1:{worker.metrics_port}/metrics"
    [ready] = worker.events("models ready")
    assert ready["default"] == LITE0
    assert [m.split("@")[0] for m in ready["loaded"]] == [LITE0, LITE2]

    def run(model: str) -> dict[str, Any]:
        response = upload(private_stack.base_url, user.id_token, cat_jpeg, model=model)
        assert response.status_code == 202, response.text
        result = poll(private_stack.base_url, user.id_token, response.json()["task_id"])
        assert result["status"] == "done", result
        return result

    warm = run(LITE2)
    assert warm["timings"]["model_load_ms"] < 50  # preloaded: no load on the task's path
    cold = run(LITE1)  # not loaded: loaded now, and lite0 (least recently used) makes room
    assert cold["timings"]["model_load_ms"] > warm["timings"]["model_load_ms"]
    assert cold["timings"]["total_ms"] >= cold["timings"]["model_load_ms"]
    again = run(LITE1)
    assert again["timings"]["model_load_ms"] < 50

    samples = scrape(metrics_url)
    loaded = {
        labels["model"]
        for (name, frozen), v in samples.items()
        if name == "snapmatch_worker_model_loaded" and v == 1
        for labels in [dict(frozen)]
    }
    assert loaded == {LITE1, LITE2}
    requests = "snapmatch_worker_model_requests_total"
    assert value(samples, requests, model=LITE1, cache="miss") == 1
    assert value(samples, requests, model=LITE1, cache="hit") == 1
    assert value(samples, requests, model=LITE2, cache="hit") == 1
    assert value(samples, "snapmatch_worker_tasks_total", status="done", model=LITE1) == 2
    assert value(samples, "snapmatch_worker_inference_seconds_count", model=LITE2) == 1
    assert value(samples, "snapmatch_worker_model_load_seconds_count", model=LITE1) == 1
    assert [e["model"] for e in worker.events("model unloaded")] == [LITE0]

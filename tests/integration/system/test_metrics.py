"""Both Prometheus endpoints after real traffic: the gateway's /metrics and a worker's own port.

The stack is shared with other tests, so assertions are on increases between two scrapes.
"""

import uuid

import httpx
import pytest

from tests.support.client import auth, poll, upload
from tests.support.metrics import names, scrape, value
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


def _worker_url(stack: Stack) -> str:
    port = stack.workers[0].metrics_port
    assert port, "the stack's worker serves no metrics"
    return f"http://127.0.0.1:{port}/metrics"


def test_gateway_and_worker_metrics_follow_real_requests(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    gateway_url = f"{stack.base_url}/metrics"
    before, worker_before = scrape(gateway_url), scrape(_worker_url(stack))

    accepted = upload(stack.base_url, user.id_token, coffee_jpeg)
    assert accepted.status_code == 202, accepted.text
    result = poll(stack.base_url, user.id_token, accepted.json()["task_id"])
    assert result["status"] == "done"
    unknown = httpx.get(f"{stack.base_url}/result/{uuid.uuid4()}", headers=auth(user.id_token))
    assert unknown.status_code == 404
    assert (
        httpx.get(f"{stack.base_url}/result/not-a-uuid", headers=auth(user.id_token)).status_code
        == 422
    )
    assert httpx.post(f"{stack.base_url}/predict").status_code == 401
    assert httpx.get(f"{stack.base_url}/no/such/path").status_code == 404
    assert httpx.get(f"{stack.base_url}/openapi.json").status_code == 200
    # Refused by the body-size middleware before routing: still counted under its route.
    too_big = b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024)
    assert upload(stack.base_url, user.id_token, too_big).status_code == 413

    after, worker_after = scrape(gateway_url), scrape(_worker_url(stack))

    def increase(name: str, /, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "snapmatch_http_requests_total"
    assert increase(requests, method="POST", route="/predict", status="202") == 1
    assert increase(requests, method="POST", route="/predict", status="401") == 1
    assert increase(requests, method="POST", route="/predict", status="413") == 1
    assert increase(requests, method="GET", route="/result/{task_id}", status="200") == 1
    # the polls while pending plus the unknown id
    assert increase(requests, method="GET", route="/result/{task_id}", status="404") >= 1
    assert increase(requests, method="GET", route="/result/{task_id}", status="422") == 1
    assert increase(requests, method="GET", route="<unmatched>", status="404") == 1
    assert increase(requests, method="GET", route="/openapi.json", status="200") == 1
    assert not [n for n, labels in after if n == requests and ("route", "/no/such/path") in labels]
    duration = "snapmatch_http_request_duration_seconds"
    assert increase(f"{duration}_count", method="POST", route="/predict") == 3
    assert increase(f"{duration}_bucket", method="POST", route="/predict", le="+Inf") == 3
    publish = "snapmatch_task_publish_duration_seconds_count"
    assert increase(publish, outcome="confirmed") == 1
    assert value(after, "snapmatch_queue_consumers", queue=stack.queue) == 1
    assert value(after, "snapmatch_queue_messages", queue=stack.queue) >= 0
    assert ("snapmatch_queue_messages", frozenset({("queue", stack.queue)})) in after

    def worker_increase(name: str, /, **labels: str) -> float:
        return value(worker_after, name, **labels) - value(worker_before, name, **labels)

    model = result["model"]
    by_model = {"model": model["name"]}
    assert worker_increase("snapmatch_worker_tasks_total", status="done", **by_model) == 1
    assert worker_increase("snapmatch_worker_inference_seconds_count", **by_model) == 1
    assert worker_increase("snapmatch_worker_preprocess_seconds_count", **by_model) == 1
    assert worker_increase("snapmatch_worker_queue_wait_seconds_count") == 1
    assert worker_increase("snapmatch_worker_batch_size_count") == 1
    assert worker_increase("snapmatch_worker_inference_seconds_sum", **by_model) == pytest.approx(
        result["timings"]["inference_ms"] / 1000, abs=1e-6
    )
    loaded = {"model": model["name"], "version": model["version"]}
    assert value(worker_after, "snapmatch_worker_model_loaded", **loaded) == 1
    assert worker_increase("snapmatch_worker_model_requests_total", cache="hit", **by_model) == 1
    assert "process_resident_memory_bytes" in names(worker_after)


def test_503_answers_are_counted_as_retry_later(
    gateway_without_redis: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    base = gateway_without_redis.base_url
    assert upload(base, user.id_token, coffee_jpeg).status_code == 503
    assert httpx.get(f"{base}/ready").status_code == 503

    samples = scrape(f"{base}/metrics")
    retry_later = "snapmatch_http_retry_later_responses_total"
    assert value(samples, retry_later, route="/predict", status="503") == 1
    assert value(samples, retry_later, route="/ready", status="503") == 1
    assert (
        value(
            samples, "snapmatch_http_requests_total", method="POST", route="/predict", status="503"
        )
        == 1
    )
    # Redis refused before anything was published.
    assert value(samples, "snapmatch_task_publish_duration_seconds_count", outcome="confirmed") == 0

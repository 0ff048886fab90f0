"""One trace per upload, across the real gateway, RabbitMQ and a real worker, as an OTLP
collector receives it: the client's traceparent, the upload, the publish, the queue wait and
the worker's stages, each linked to its parent."""

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import auth, poll
from tests.support.otlp import ReceivedSpan, TraceReceiver, otlp_receiver
from tools.devstack import Stack, delete_queue, wait_until
from tools.devstack.emulator import SignedInUser

GATEWAY, WORKER = "snapmatch-gateway", "snapmatch-worker"
SERVER, CONSUMER, PRODUCER = 2, 5, 4  # opentelemetry.proto Span.SpanKind
WORKER_STAGES = (
    "fetch image",
    "preprocess",
    "inference",
    "store images",
    "store result",
    "notify",
)


@pytest.fixture(scope="module")
def receiver() -> Iterator[TraceReceiver]:
    with otlp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def traced_stack(
    built_model: Path, receiver: TraceReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path_factory.mktemp("traces"),
        env_overrides={
            "SNAPMATCH_TRACING_ENABLED": "true",
            "SNAPMATCH_OTLP_TRACES_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within 0.1 s instead of 5 s
        },
    )
    stack.start_gateway()
    stack.start_worker()
    yield stack
    stack.stop()
    delete_queue(stack.queue)


def _upload(stack: Stack, token: str, photo: bytes, headers: dict[str, str]) -> str:
    response = httpx.post(
        f"{stack.base_url}/predict",
        headers=auth(token) | headers,
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    assert poll(stack.base_url, token, task_id)["status"] == "done"
    return task_id


def _one(spans: list[ReceivedSpan], name: str, service: str) -> ReceivedSpan:
    found = [span for span in spans if span.name == name and span.service == service]
    assert len(found) == 1, (name, service, [(s.service, s.name) for s in spans])
    return found[0]


def test_an_upload_is_one_trace_from_the_client_to_the_worker(
    traced_stack: Stack, receiver: TraceReceiver, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    _upload(
        traced_stack, user.id_token, coffee_jpeg, {"traceparent": f"00-{trace_id}-{client_span}-01"}
    )
    spans = receiver.wait_for(
        trace_id, "POST /predict", "queue wait", "process task", *WORKER_STAGES
    )

    upload = _one(spans, "POST /predict", GATEWAY)
    assert (upload.parent_id, upload.kind) == (client_span, SERVER)
    assert upload.attributes["http.response.status_code"] == 202
    publish = _one(spans, "publish task", GATEWAY)
    assert (publish.parent_id, publish.kind) == (upload.span_id, PRODUCER)

    queue_wait = _one(spans, "queue wait", WORKER)
    process = _one(spans, "process task", WORKER)
    assert queue_wait.parent_id == process.parent_id == publish.span_id
    assert process.kind == CONSUMER
    assert process.attributes["snapmatch.task.status"] == "done"
    assert queue_wait.start_ns <= queue_wait.end_ns <= process.start_ns
    stages = [_one(spans, name, WORKER) for name in WORKER_STAGES]
    assert all(stage.parent_id == process.span_id for stage in stages)
    fetch, preprocess, inference, images, store, notify = stages
    assert fetch.end_ns <= preprocess.start_ns
    assert preprocess.end_ns <= inference.start_ns and inference.end_ns <= images.start_ns
    assert images.end_ns <= store.start_ns
    assert store.end_ns <= notify.start_ns <= process.end_ns

    # Redis commands appear where they run: reserving the task, storing its result.
    redis_parents = {s.parent_id for s in spans if s.attributes.get("db.system") == "redis"}
    assert upload.span_id in redis_parents and store.span_id in redis_parents


def test_an_upload_without_a_traceparent_starts_a_trace_the_worker_joins(
    traced_stack: Stack, receiver: TraceReceiver, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = _upload(traced_stack, user.id_token, coffee_jpeg, {})

    def processed() -> list[ReceivedSpan]:
        return [
            s
            for s in receiver.spans
            if s.name == "process task" and s.attributes.get("messaging.message.id") == task_id
        ]

    wait_until(lambda: bool(processed()), timeout=30, what="the worker's span of the task")
    spans = receiver.wait_for(processed()[0].trace_id, "POST /predict", "publish task")
    upload = _one(spans, "POST /predict", GATEWAY)
    assert upload.parent_id == ""  # a new trace, begun by the gateway
    assert processed()[0].parent_id == _one(spans, "publish task", GATEWAY).span_id


def test_log_lines_name_their_trace(
    traced_stack: Stack, receiver: TraceReceiver, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    trace_id = secrets.token_hex(16)
    task_id = _upload(
        traced_stack,
        user.id_token,
        coffee_jpeg,
        {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert traced_stack.gateway is not None
    for process, event in (
        (traced_stack.gateway, "task queued"),
        (traced_stack.workers[0], "task finished"),
    ):
        wait_until(lambda p=process, e=event: bool(p.events(e)), timeout=30, what=event)  # type: ignore[misc]
        lines = [line for line in process.events(event) if line.get("task_id") == task_id]
        assert len(lines) == 1, process.log()[-2000:]
        assert lines[0]["trace_id"] == trace_id, json.dumps(lines[0])

"""FCM result notifications: the request firebase-admin sends (answered by respx), and that a
failing FCM never surfaces as an error."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import firebase_admin
import google.oauth2.credentials
import httpx
import pytest
import respx
from firebase_admin import credentials

from contracts.results import Prediction, TaskRecord, TaskStatus
from contracts.task_pb2 import TaskMessage
from worker.metrics import WorkerMetrics
from worker.push import PushNotifier

PROJECT = "demo-snapmatch"
FCM_SEND_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
DEVICE_TOKEN = "device-registration-token-123"


class StaticCredential(credentials.Base):  # type: ignore[misc]
    """An OAuth access token that never needs refreshing: no call to Google's token endpoint."""

    def get_credential(self) -> google.oauth2.credentials.Credentials:
        return google.oauth2.credentials.Credentials(token="test-access-token")  # type: ignore[no-untyped-call]


@pytest.fixture
def notifier_and_metrics() -> Iterator[tuple[PushNotifier, WorkerMetrics]]:
    app = firebase_admin.initialize_app(
        StaticCredential(), options={"projectId": PROJECT}, name=f"push-{uuid.uuid4().hex}"
    )
    metrics = WorkerMetrics()
    notifier = PushNotifier(app, metrics)
    yield notifier, metrics
    notifier.close()


def _task(token: str = DEVICE_TOKEN) -> TaskMessage:
    return TaskMessage(
        task_id="9d5e0f0e-0000-4000-8000-000000000001", owner_uid="alice", fcm_token=token
    )


def _record() -> TaskRecord:
    return TaskRecord(
        task_id="9d5e0f0e-0000-4000-8000-000000000001",
        owner_uid="alice",
        status=TaskStatus.DONE,
        submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
        predictions=[Prediction(class_id=967, label="espresso", confidence=0.7)],
    )


def _pushes(metrics: WorkerMetrics, outcome: str) -> float:
    return (
        metrics.registry.get_sample_value(
            "snapmatch_worker_push_notifications_total", {"outcome": outcome}
        )
        or 0.0
    )


def test_a_finished_task_pushes_a_data_message_to_the_device(
    notifier_and_metrics: tuple[PushNotifier, WorkerMetrics],
) -> None:
    notifier, metrics = notifier_and_metrics
    with respx.mock(assert_all_called=True) as fcm:
        route = fcm.post(FCM_SEND_URL).mock(
            return_value=httpx.Response(200, json={"name": f"projects/{PROJECT}/messages/1"})
        )
        notifier.task_finished(_task(), _record())
        notifier.close()

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer test-access-token"
    message = json.loads(request.content)["message"]
    assert message["token"] == DEVICE_TOKEN
    assert message["data"] == {
        "type": "snapmatch.result",
        "task_id": "9d5e0f0e-0000-4000-8000-000000000001",
        "status": "done",
        "result_url": "/result/9d5e0f0e-0000-4000-8000-000000000001",
    }
    assert message["android"]["priority"] == "high"
    assert "notification" not in message  # a data message: the app decides what to show
    assert _pushes(metrics, "sent") == 1


def test_an_unregistered_device_is_counted_not_raised(
    notifier_and_metrics: tuple[PushNotifier, WorkerMetrics],
) -> None:
    notifier, metrics = notifier_and_metrics
    error = {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": "UNREGISTERED",
                }
            ],
        }
    }
    with respx.mock(assert_all_called=True) as fcm:
        fcm.post(FCM_SEND_URL).mock(return_value=httpx.Response(404, json=error))
        notifier.task_finished(_task(), _record())  # must not raise
        notifier.close()
    assert _pushes(metrics, "failed") == 1
    assert _pushes(metrics, "sent") == 0


def test_an_unreachable_fcm_is_counted_not_raised(
    notifier_and_metrics: tuple[PushNotifier, WorkerMetrics],
) -> None:
    notifier, metrics = notifier_and_metrics
    with respx.mock(assert_all_called=True) as fcm:
        fcm.post(FCM_SEND_URL).mock(side_effect=httpx.ConnectError("no route to host"))
        notifier.task_finished(_task(), _record())
        notifier.close()
    assert _pushes(metrics, "failed") == 1


def test_a_task_without_a_device_token_sends_nothing(
    notifier_and_metrics: tuple[PushNotifier, WorkerMetrics],
) -> None:
    notifier, metrics = notifier_and_metrics
    with respx.mock(assert_all_called=False) as fcm:
        route = fcm.post(FCM_SEND_URL)
        notifier.task_finished(_task(token=""), _record())
        notifier.close()
    assert route.call_count == 0
    assert _pushes(metrics, "sent") == _pushes(metrics, "failed") == 0

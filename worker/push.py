"""Push instead of polling: a Firebase Cloud Messaging data message when a result is stored.

Sending never holds up a task: ``task_finished`` only schedules the send on an asyncio loop
running in a thread of its own (firebase-admin's ``send_each_async``, over httpx), and every
failure is logged and counted, never raised. The result is already in Redis by then, so a
client that misses the push still gets it by polling. Delivery is at most once: a worker that
dies between storing and sending sends nothing.
"""

import asyncio
import threading
import warnings
from concurrent.futures import Future
from typing import Any

import firebase_admin
import structlog
from firebase_admin import messaging

from config import Settings
from config.firebase import firebase_app, service_account_credential
from config.structured_logging import task_fields
from contracts.results import TaskRecord
from contracts.task_pb2 import TaskMessage
from worker.metrics import WorkerMetrics
from worker.tracing import stage

logger = structlog.stdlib.get_logger(__name__)


def result_message(token: str, record: TaskRecord) -> messaging.Message:
    """The data message for a finished task: small, and enough to fetch the full result."""
    # firebase-admin 7.7 marks `token` deprecated in favour of installation ids (`fid`), but
    # FCM's HTTP v1 API and Flutter's FirebaseMessaging.getToken() still speak registration
    # tokens, which is what clients send.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return _message(token, record)


def _message(token: str, record: TaskRecord) -> messaging.Message:
    return messaging.Message(
        token=token,
        data={
            "type": "snapmatch.result",
            "task_id": record.task_id,
            "status": record.status.value,
            "result_url": f"/result/{record.task_id}",
        },
        # Deliver promptly; on iOS wake the app in the background to fetch the result.
        android=messaging.AndroidConfig(priority="high"),
        apns=messaging.APNSConfig(
            payload=messaging.APNSPayload(aps=messaging.Aps(content_available=True))
        ),
    )


def push_app(settings: Settings) -> firebase_admin.App:
    """A firebase-admin app able to call FCM; refuses to start without a credential."""
    credential = service_account_credential(settings, needed_for="push_notifications=true")
    return firebase_app(settings, credential)


class PushNotifier:
    """A ``TaskObserver`` that pushes finished results to the uploading device."""

    def __init__(self, app: firebase_admin.App, metrics: WorkerMetrics | None = None) -> None:
        self._app = app
        self._metrics = metrics
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="push-notifier", daemon=True
        )
        self._thread.start()
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def task_finished(self, task: TaskMessage, record: TaskRecord) -> None:
        if not task.fcm_token:
            return
        fields = task_fields(record.task_id, record.owner_uid)
        future = asyncio.run_coroutine_threadsafe(
            self._send(result_message(task.fcm_token, record), fields), self._loop
        )
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    async def _send(self, message: messaging.Message, fields: dict[str, str]) -> None:
        log = logger.bind(**fields)
        # A child of the task's `notify` span: the coroutine runs in a copy of the caller's
        # context, which asyncio takes when the send is scheduled.
        try:
            with stage("push notification"):
                batch = await messaging.send_each_async([message], app=self._app)
            response = batch.responses[0]
            error: Any = None if response.success else response.exception
        except Exception as exc:  # a failure to notify must never reach the task
            error = exc
        if error is None:
            log.info("push notification sent")
            self._count("sent")
        else:
            log.warning("push notification failed", error=repr(error))
            self._count("failed")

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.push.labels(outcome).inc()

    def close(self, timeout: float = 10.0) -> None:
        """Give sends in flight up to ``timeout`` seconds, then stop the loop. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending)
        for future in pending:
            try:
                future.result(timeout=timeout)
            except Exception:  # already logged by _send, or timed out
                logger.warning("a push notification was still pending at shutdown")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=timeout)
        firebase_admin.delete_app(self._app)

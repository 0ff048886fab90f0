"""Standard Webhooks signatures: the specification's example vector, and our payloads."""

import json
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from app.webhooks.delivery import backoff_seconds
from app.webhooks.signing import payload, signed_headers, webhook_id
from contracts.results import Prediction, TaskRecord, TaskStatus

# The example of the Standard Webhooks specification (and its reference libraries' tests).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_headers_match_the_specifications_example() -> None:
    sent_at = datetime.fromtimestamp(SPEC_TIMESTAMP, tz=UTC)
    headers = signed_headers(SPEC_SECRET, SPEC_ID, SPEC_BODY, sent_at)
    assert headers["webhook-id"] == SPEC_ID
    assert headers["webhook-timestamp"] == str(SPEC_TIMESTAMP)
    assert headers["webhook-signature"] == SPEC_SIGNATURE


def _record() -> TaskRecord:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    return TaskRecord(
        task_id="0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11",
        owner_uid="uid-1",
        status=TaskStatus.DONE,
        submitted_at=moment,
        completed_at=moment,
        predictions=[Prediction(class_id=967, label="espresso", confidence=0.6)],
    )


def test_a_receiver_verifies_a_delivery_and_rejects_a_tampered_one() -> None:
    body = payload(_record(), result_url="/result/0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11")
    headers = signed_headers(SPEC_SECRET, webhook_id(_record().task_id), body, datetime.now(UTC))
    verified = Webhook(SPEC_SECRET).verify(body, headers)
    assert verified["type"] == "task.done"
    assert verified["data"]["predictions"][0]["label"] == "espresso"
    tampered = body.replace("espresso", "teapot")
    try:
        Webhook(SPEC_SECRET).verify(tampered, headers)
    except Exception as exc:
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("a tampered body verified")


def test_the_id_and_body_are_the_same_on_every_attempt() -> None:
    record = _record()
    assert webhook_id(record.task_id) == "msg_0b9e6a525c1e4f7e9a532f1f0c4f6d11"
    first = payload(record, result_url="/result/x")
    assert payload(record, result_url="/result/x") == first
    assert json.loads(first)["data"]["owner_uid"] == "uid-1"


def test_backoff_doubles_up_to_its_cap_with_bounded_jitter() -> None:
    waits = [backoff_seconds(n, first=1.0, longest=10.0) for n in range(1, 7)]
    for attempt, wait in enumerate(waits, start=1):
        base = min(10.0, 2.0 ** (attempt - 1))
        assert base <= wait <= base * 1.1

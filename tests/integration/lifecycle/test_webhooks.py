"""Signed webhooks to a real receiver: verified, at least once, retried until it is up."""

from pathlib import Path

from tests.support.client import poll, upload
from tests.support.metrics import scrape, value
from tests.support.stacks import custom_stack
from tests.support.webhooks import SECRET, receiver
from tools.devstack import Stack, free_port, wait_until
from tools.devstack.emulator import SignedInUser

_FAST_RETRIES = {
    "SNAPMATCH_WEBHOOK_SECRET": SECRET,
    "SNAPMATCH_WEBHOOK_BACKOFF_SECONDS": "0.2",
    "SNAPMATCH_WEBHOOK_BACKOFF_MAX_SECONDS": "1",
    "SNAPMATCH_WEBHOOK_TIMEOUT_SECONDS": "2",
}


def _given_up(stack: Stack) -> float:
    return value(scrape(f"{stack.base_url}/metrics"), "snapmatch_webhooks_failed_total")


def test_every_terminal_result_reaches_the_receiver_signed(
    built_model: Path, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    with receiver() as hooks:
        env = _FAST_RETRIES | {
            "SNAPMATCH_WEBHOOK_URL": hooks.url,
            "SNAPMATCH_WEBHOOK_ALLOW_PRIVATE_DESTINATIONS": "true",
        }
        with custom_stack(tmp_path, **env) as stack:
            stack.start_worker()
            done = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
            failed = upload(stack.base_url, user.id_token, coffee_jpeg[:5000]).json()["task_id"]
            assert poll(stack.base_url, user.id_token, failed)["status"] == "failed"
            wait_until(lambda: len(hooks.unique) == 2, timeout=30, what="two webhooks")
            metrics = scrape(f"{stack.base_url}/metrics")
    assert hooks.refused == []
    first = hooks.unique[f"msg_{done.replace('-', '')}"]
    assert first["type"] == "task.done"
    assert first["data"]["task_id"] == done
    assert first["data"]["owner_uid"] == user.uid
    assert first["data"]["status"] == "done"
    assert first["data"]["result_url"] == f"/result/{done}"
    assert first["data"]["predictions"][0]["label"] == "espresso"
    second = hooks.unique[f"msg_{failed.replace('-', '')}"]
    assert second["type"] == "task.failed"
    assert second["data"]["error"]["code"] == "undecodable_image"
    assert value(metrics, "snapmatch_webhooks_sent_total") == 2


def test_a_receiver_that_is_down_then_up_gets_everything(
    built_model: Path, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    port = free_port()
    env = _FAST_RETRIES | {
        "SNAPMATCH_WEBHOOK_URL": f"http://127.0.0.1:{port}/hooks/snapmatch",
        "SNAPMATCH_WEBHOOK_ALLOW_PRIVATE_DESTINATIONS": "true",
        "SNAPMATCH_WEBHOOK_MAX_ATTEMPTS": "30",
    }
    with custom_stack(tmp_path, **env) as stack:
        stack.start_worker()
        task_ids = [
            upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"] for _ in range(3)
        ]
        for task_id in task_ids:
            # The receiver being down delays no result.
            assert poll(stack.base_url, user.id_token, task_id)["status"] == "done"
        wait_until(
            lambda: (
                value(scrape(f"{stack.base_url}/metrics"), "snapmatch_webhooks_retried_total") >= 3
            ),
            timeout=30,
            what="failed attempts while the receiver is down",
        )
        with receiver(port) as hooks:
            wait_until(lambda: len(hooks.unique) == 3, timeout=30, what="every webhook")
            metrics = scrape(f"{stack.base_url}/metrics")
    assert {payload["data"]["task_id"] for payload in hooks.unique.values()} == set(task_ids)
    assert hooks.refused == []
    assert value(metrics, "snapmatch_webhooks_sent_total") == 3
    assert value(metrics, "snapmatch_webhooks_failed_total") == 0


def _gateway_log_after_giving_up(
    tmp_path: Path, user: SignedInUser, image: bytes, **env: str
) -> str:
    """Run one task on a stack with ``env`` and at most 2 attempts; once its webhook was given
    up, the gateway's log."""
    with custom_stack(
        tmp_path, **(_FAST_RETRIES | env), SNAPMATCH_WEBHOOK_MAX_ATTEMPTS="2"
    ) as stack:
        stack.start_worker()
        task_id = upload(stack.base_url, user.id_token, image).json()["task_id"]
        poll(stack.base_url, user.id_token, task_id)
        wait_until(lambda: _given_up(stack) == 1, timeout=30, what="the webhook given up")
        assert stack.gateway is not None
        return stack.gateway.log()


def test_private_destinations_and_redirects_are_refused(
    built_model: Path, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    with receiver() as target, receiver() as redirecting:
        redirecting.redirect_to = target.url
        # Loopback without the explicit allowance: refused before any connection.
        log = _gateway_log_after_giving_up(
            tmp_path, user, coffee_jpeg, SNAPMATCH_WEBHOOK_URL=target.url
        )
        assert "127.0.0.1 is a loopback address" in log
        # Allowed, but the receiver redirects: the redirect is not followed.
        log = _gateway_log_after_giving_up(
            tmp_path,
            user,
            coffee_jpeg,
            SNAPMATCH_WEBHOOK_URL=redirecting.url,
            SNAPMATCH_WEBHOOK_ALLOW_PRIVATE_DESTINATIONS="true",
        )
        assert "answered 307" in log
    assert target.deliveries == []

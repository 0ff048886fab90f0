"""Lingering close, message by message: the answer goes out whole, its end waits for the
drain, and nothing is drained that the client will not send or that is over the bound."""

import asyncio
from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from app.http.lingering_close import LingeringCloseMiddleware


async def _refuse_unread(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"error": "missing_token"}, status_code=401)(scope, receive, send)


async def _read_then_answer(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body", False):
        pass
    await JSONResponse({"ok": True})(scope, receive, send)


def _run(
    app: object,
    body_chunks: Iterable[bytes],
    *,
    headers: dict[str, str],
    max_drain_bytes: int = 1 << 20,
) -> tuple[list[Message], int]:
    """Sent messages, and how many receive() calls the client answered."""
    chunks = list(body_chunks)
    sent: list[Message] = []
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        if received <= len(chunks):
            return {
                "type": "http.request",
                "body": chunks[received - 1],
                "more_body": received < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    middleware = LingeringCloseMiddleware(
        app,  # type: ignore[arg-type]
        max_drain_bytes=max_drain_bytes,
        max_drain_seconds=5,
    )
    asyncio.run(middleware(scope, receive, send))
    return sent, received


def _header(start: Message, name: bytes) -> bytes | None:
    return dict(start["headers"]).get(name)


def test_an_early_answer_is_sent_whole_and_ended_after_the_drain() -> None:
    sent, received = _run(
        _refuse_unread, [b"a" * 10, b"b" * 10, b"c" * 10], headers={"Content-Length": "30"}
    )
    start, body, end = sent
    assert start["status"] == 401 and _header(start, b"connection") == b"close"
    assert body["more_body"] is True and b"missing_token" in body["body"]
    assert end == {"type": "http.response.body", "body": b"", "more_body": False}
    assert received == 3  # the whole body was read and discarded


def test_an_answer_after_the_body_is_left_alone() -> None:
    sent, _ = _run(_read_then_answer, [b"a" * 10], headers={"Content-Length": "10"})
    start, body = sent
    assert _header(start, b"connection") is None
    assert not body.get("more_body", False)


def test_an_expect_100_continue_client_is_not_drained() -> None:
    sent, received = _run(
        _refuse_unread, [b"a" * 10], headers={"Content-Length": "10", "Expect": "100-continue"}
    )
    start, body = sent
    assert _header(start, b"connection") == b"close" and not body.get("more_body", False)
    assert received == 0  # asking would have made the server send "100 Continue"


def test_a_body_declared_over_the_bound_is_not_drained() -> None:
    sent, received = _run(
        _refuse_unread, [b"a" * 10], headers={"Content-Length": "5000"}, max_drain_bytes=4000
    )
    assert not sent[-1].get("more_body", False) and received == 0


def test_a_drain_stops_at_its_byte_bound() -> None:
    sent, received = _run(
        _refuse_unread,
        [b"a" * 1000] * 10,
        headers={"Transfer-Encoding": "chunked"},
        max_drain_bytes=2500,
    )
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert received == 3  # 3000 bytes read: over the bound, the connection is closed

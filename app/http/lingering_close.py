"""Answers sent before the request body was read reach every client: lingering close.

The gateway refuses some uploads without reading them (401, 413, 415, 429). Closing the
connection right after such an answer, with the rest of the body still arriving, makes the
kernel reset it, and a client that writes its whole body before reading (Python's urllib,
newman, many mobile HTTP stacks) gets the reset instead of the status: a Flutter app whose
token expired sees a socket error, not the 401 that tells it to refresh.

So, as nginx's *lingering close* does: the answer goes out at once, marked
``Connection: close``; then the rest of the body is read and discarded (never stored), bounded
in bytes and in time, and only then is the connection closed. The answer is complete on the
wire before the drain starts (every body is sent, only the end-of-response message is held
back), so clients that read early are not slowed down. A client that sent
``Expect: 100-continue`` and got no ``100 Continue`` sends no body: nothing is drained. A body
declared larger than the drain budget is not drained either: the connection closes at once.

Placed outermost, so that the access log, the metrics and the request's own middleware have
finished before the drain starts.
"""

import asyncio
import time

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = structlog.stdlib.get_logger(__name__)

# As nginx's lingering_timeout: a client that sends nothing for this long is not coming back.
DRAIN_IDLE_SECONDS = 5.0


class LingeringCloseMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_drain_bytes: int,
        max_drain_seconds: float,
        idle_seconds: float = DRAIN_IDLE_SECONDS,
    ) -> None:
        self.app = app
        self.max_drain_bytes = max_drain_bytes
        self.max_drain_seconds = max_drain_seconds
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(Headers(scope=scope), self.max_drain_bytes)

        async def tracking_receive() -> Message:
            message = await receive()
            exchange.received(message)
            return message

        async def lingering_send(message: Message) -> None:
            await send(exchange.answer(message))

        await self.app(scope, tracking_receive, lingering_send)
        if exchange.end_held_back:
            await self._drain(receive)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _drain(self, receive: Receive) -> None:
        """Read and discard the rest of the body until it ends, the client goes away, or a
        bound is reached (then the connection is closed regardless)."""
        drained = 0
        started = time.monotonic()
        deadline = started + self.max_drain_seconds
        loop = asyncio.get_running_loop()
        try:
            while drained <= self.max_drain_bytes:
                idle_deadline = loop.time() + min(self.idle_seconds, deadline - time.monotonic())
                async with asyncio.timeout_at(idle_deadline):
                    message = await receive()
                if message["type"] != "http.request":
                    return  # the client closed the connection: nothing left to protect
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
        except TimeoutError:
            pass
        logger.info(
            "closing a refused request's connection before its body ended",
            drained_bytes=drained,
            seconds=round(time.monotonic() - started, 1),
        )


class _Exchange:
    """What is known about one request/response exchange: whether the body was read to its
    end, whether the answer came first, and whether its end is held back for a drain."""

    def __init__(self, headers: Headers, max_drain_bytes: int) -> None:
        declared = headers.get("content-length")
        self.declared = int(declared) if declared is not None and declared.isdigit() else None
        self.body_complete = self.declared in (None, 0) and "transfer-encoding" not in headers
        self.expects_continue = headers.get("expect", "").lower() == "100-continue"
        self.max_drain_bytes = max_drain_bytes
        self.body_asked_for = False
        self.body_received = 0
        self.answered_early = False
        self.answer_has_length = False
        self.end_held_back = False

    def received(self, message: Message) -> None:
        self.body_asked_for = True  # uvicorn sends "100 Continue" on the first receive
        if message["type"] == "http.request":
            self.body_received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.body_complete = True
        else:  # http.disconnect: there is nothing left to read
            self.body_complete = True

    def answer(self, message: Message) -> Message:
        """``message`` as it should go out: ``Connection: close`` on an early answer, and its
        final body message turned into a non-final one when the body will be drained."""
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            self.answer_has_length = "content-length" in headers
            if not self.body_complete:
                self.answered_early = True
                headers["Connection"] = "close"
        elif (
            message["type"] == "http.response.body"
            and not message.get("more_body", False)
            and self.answered_early
            and self._worth_draining()
        ):
            self.end_held_back = True
            return {**message, "more_body": True}
        return message

    def _worth_draining(self) -> bool:
        if self.body_complete or not self.answer_has_length:
            # Without a length, the client only knows the answer ended when it is closed.
            return False
        if self.expects_continue and not self.body_asked_for:
            return False  # no "100 Continue" went out: the client holds its body back
        if self.declared is not None:
            return self.declared - self.body_received <= self.max_drain_bytes
        return True

"""The request body: refused while it streams in when it is too large, and the connection
closed after any answer sent before the body was read.

Oversize bodies are refused from ``Content-Length`` up front, and chunked ones by counting as
they arrive; the error raised from ``receive`` is an HTTP exception, so FastAPI's form parsing
passes it through to the JSON error handler instead of turning it into a generic 400.

The gateway also refuses some uploads before reading them on purpose (a bad token, a spent
budget). On a kept-alive connection the client may then stop sending the rest of the body while
the server still waits for it, and the next request on it hangs; ``Connection: close`` on
those answers ends the exchange cleanly.
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import APIError, error_response


class BodyTooLargeError(APIError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "payload_too_large", f"request body exceeds {limit} bytes")


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        body_complete = declared in (None, "0") and "transfer-encoding" not in headers
        received = 0

        async def guarded_receive() -> Message:
            nonlocal body_complete, received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
                if not message.get("more_body", False):
                    body_complete = True
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_complete:
                MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            response = error_response(BodyTooLargeError(self.max_body_bytes))
            await response(scope, receive, closing_send)
            return
        await self.app(scope, guarded_receive, closing_send)

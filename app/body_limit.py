"""Refuse oversize request bodies while they stream in, before they are parsed or spooled."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import APIError, error_response


class BodyTooLargeError(APIError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "payload_too_large", f"request body exceeds {limit} bytes")


class BodySizeLimitMiddleware:
    """Checks ``Content-Length`` up front and counts the bytes of chunked bodies as they arrive.

    The error raised from ``receive`` is an HTTP exception, so FastAPI's form parsing passes it
    through to the JSON error handler instead of turning it into a generic 400.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            # Never read: CloseUnreadBodyMiddleware closes the connection after this answer.
            await error_response(BodyTooLargeError(self.max_body_bytes))(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
            return message

        await self.app(scope, limited_receive, send)

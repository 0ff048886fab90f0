"""The request body: refused while it streams in when it is too large.

Oversize bodies are refused from ``Content-Length`` up front, and chunked ones by counting as
they arrive; the error raised from ``receive`` is an HTTP exception, so FastAPI's form parsing
passes it through to the JSON error handler instead of turning it into a generic 400.

What happens to the connection after an answer sent before the body was read (this one's 413,
a 401, a 429) is ``app.http.lingering_close``'s job.
"""

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import APIError, error_response


class BodyTooLargeError(APIError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "payload_too_large", f"request body exceeds {limit} bytes")


class BodyGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = dict(path_limits or {})  # larger bounds for exact paths (batches)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.max_body_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await error_response(BodyTooLargeError(limit))(scope, receive, send)
            return
        received = 0

        async def guarded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, guarded_receive, send)

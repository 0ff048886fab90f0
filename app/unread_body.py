"""Close the connection when the gateway answers before it has read the request's body.

The gateway refuses some uploads early on purpose (a bad token, a spent budget, a body over the
limit) and never reads the photo. On a kept-alive connection the client may then stop sending
the rest of it while the server still waits for it, and uvicorn lets such a connection sit
forever; the next request on it hangs. ``Connection: close`` on those answers ends the exchange
cleanly: the client reads the response and opens a new connection for its next request.
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CloseUnreadBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body_complete = headers.get("content-length", "0") == "0" and (
            "transfer-encoding" not in headers
        )

        async def tracking_receive() -> Message:
            nonlocal body_complete
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_complete = True
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_complete:
                MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        await self.app(scope, tracking_receive, closing_send)

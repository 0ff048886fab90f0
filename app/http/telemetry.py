"""Each request's access-log line and Prometheus series, and the JSON 500 of a failed one.

Both the log line and the metrics need what the client got (the status) and how long it took,
so one wrapper of ``send`` captures them. An unhandled error is answered here, not by
Starlette's outermost error middleware, so that the 500 still passes through the request-id
and security-header layers and is counted and logged like any other answer.
"""

import re
import time
from typing import Any

import structlog
from starlette.routing import Mount, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import internal_error_response
from app.core.metrics import GatewayMetrics

UNMATCHED_ROUTE = "<unmatched>"

logger = structlog.stdlib.get_logger(__name__)
access_logger = structlog.stdlib.get_logger("app.access")


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering
        status_sent = False

        async def observing_send(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = int(message["status"]), True
            await send(message)

        method, path = str(scope["method"]), str(scope["path"])
        try:
            await self.app(scope, receive, observing_send)
        except Exception:
            logger.exception("unhandled error", method=method, path=path)
            if status_sent:
                raise
            await internal_error_response()(scope, receive, observing_send)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe_request(method, self.route_template(scope), status, seconds)
            access_logger.info(
                "request", method=method, path=path, status=status, ms=round(seconds * 1000, 1)
            )

    def route_template(self, scope: Scope) -> str:
        """The matched route's path template. FastAPI leaves the route in the scope; requests
        answered before routing (e.g. a 413 from the body guard), and plain Starlette routes
        such as /openapi.json, are matched against the app's path templates instead; paths
        that match none share ``<unmatched>``."""
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        if self._templates is None:
            app: Any = scope.get("app")
            paths = list(app.openapi()["paths"]) if hasattr(app, "openapi") else []
            # Plus the routes kept out of the schema (/openapi.json, /docs, ...), and the
            # mounted static files (the web page) as one template each.
            routes = getattr(app, "routes", ())
            paths += [r.path for r in routes if isinstance(r, Route)]
            paths += [f"{r.path}/{{path:path}}" for r in routes if isinstance(r, Mount)]
            self._templates = [(compile_path(template)[0], template) for template in paths]
        for pattern, template in self._templates:
            if pattern.match(str(scope["path"])):
                return template
        return UNMATCHED_ROUTE

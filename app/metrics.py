"""The gateway's Prometheus metrics and the middleware that records them.

Requests are labelled by route *template* (``/result/{task_id}``), never by the raw path, so
the number of series stays bounded; paths that match no route share ``route="<unmatched>"``.
Queue depth and consumer count are read from RabbitMQ when ``/metrics`` is scraped.
"""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from starlette.routing import Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"

# No `*_created` series: they double the exposition and dashboards do not use them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Upload and poll latencies: from a few milliseconds (cached 404) to seconds (large uploads).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_PUBLISH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class GatewayMetrics:
    """All gateway series in one registry of their own (tests start several apps per process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "snapmatch_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "snapmatch_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.retry_later = Counter(
            "snapmatch_http_retry_later_responses_total",
            "Responses asking the client to come back later: 429 (rate limited) and 503 "
            "(a dependency is down), by route template and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.publish_duration = Histogram(
            "snapmatch_task_publish_duration_seconds",
            "Time to publish a task and receive RabbitMQ's confirm, by outcome.",
            ["outcome"],
            buckets=_PUBLISH_BUCKETS,
            registry=self.registry,
        )
        self.queue_messages = Gauge(
            "snapmatch_queue_messages",
            "Messages ready in the task queue, read from RabbitMQ at scrape time.",
            ["queue"],
            registry=self.registry,
        )
        self.queue_consumers = Gauge(
            "snapmatch_queue_consumers",
            "Consumers (workers) attached to the task queue, read at scrape time.",
            ["queue"],
            registry=self.registry,
        )

    @contextmanager
    def time_publish(self) -> Iterator[None]:
        """Observe one publish, labelled ``confirmed`` or ``failed``."""
        started = time.perf_counter()
        outcome = "failed"
        try:
            yield
            outcome = "confirmed"
        finally:
            self.publish_duration.labels(outcome).observe(time.perf_counter() - started)

    def set_queue(self, queue: str, counts: tuple[int, int] | None) -> None:
        """Record (ready messages, consumers); ``None`` (broker unreachable) drops the series
        so that a dashboard shows a gap rather than a stale number."""
        if counts is None:
            for gauge in (self.queue_messages, self.queue_consumers):
                with suppress(KeyError):
                    gauge.remove(queue)
            return
        messages, consumers = counts
        self.queue_messages.labels(queue).set(messages)
        self.queue_consumers.labels(queue).set(consumers)


class MetricsMiddleware:
    """Pure ASGI middleware (outermost, so it also sees the body-size limit's 413s)."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            route = self._route_template(scope)
            method = str(scope["method"])
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_duration.labels(method, route).observe(
                time.perf_counter() - started
            )
            if status in (429, 503):
                self.metrics.retry_later.labels(route, str(status)).inc()

    def _route_template(self, scope: Scope) -> str:
        """The matched route's path template. FastAPI leaves the route in the scope; requests
        answered before routing (e.g. a 413 from the body limit), and plain Starlette routes
        such as /openapi.json, are matched against the app's path templates instead."""
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        if self._templates is None:
            app: Any = scope.get("app")
            paths = list(app.openapi()["paths"]) if hasattr(app, "openapi") else []
            # Plus the routes kept out of the schema (/openapi.json, /docs, ...).
            paths += [r.path for r in getattr(app, "routes", ()) if isinstance(r, Route)]
            self._templates = [(compile_path(template)[0], template) for template in paths]
        for pattern, template in self._templates:
            if pattern.match(str(scope["path"])):
                return template
        return UNMATCHED_ROUTE

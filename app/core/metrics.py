"""The gateway's Prometheus series, in one registry of their own.

``app.http.telemetry`` records each request (labelled by route *template*, never by the raw
path, so the number of series stays bounded); the publisher times each publish; queue depth and
consumer count are read from RabbitMQ when ``/metrics`` is scraped.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

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
        self.result_store_errors = Counter(
            "snapmatch_result_store_errors_total",
            "Task-record reads and writes that failed because Redis did not answer (each one "
            "a 503 result_store_unavailable).",
            registry=self.registry,
        )
        self.webhooks_sent = Counter(
            "snapmatch_webhooks_sent_total",
            "Webhook deliveries the receiver accepted (2xx).",
            registry=self.registry,
        )
        self.webhooks_retried = Counter(
            "snapmatch_webhooks_retried_total",
            "Webhook attempts that failed (error, timeout, non-2xx, refused destination) and "
            "were scheduled again with back-off.",
            registry=self.registry,
        )
        self.webhooks_failed = Counter(
            "snapmatch_webhooks_failed_total",
            "Webhooks given up after `webhook_max_attempts` attempts.",
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

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request: counted, timed, and counted again when it says "retry later"."""
        self.requests.labels(method, route, str(status)).inc()
        self.request_duration.labels(method, route).observe(seconds)
        if status in (429, 503):
            self.retry_later.labels(route, str(status)).inc()

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

"""OpenTelemetry traces for both processes: off by default, OTLP/HTTP when on.

``configure_tracing`` runs once at process start. With tracing off it does nothing at all: no
SDK is imported, no instrumentation is installed, and the code's own spans go through
``span``, which is then a ``nullcontext`` (even the API's no-op spans cost ~20 µs each on a
busy 2-core machine; a ``nullcontext`` costs a fraction of a microsecond). With it on, spans
are batched and sent to ``SNAPMATCH_OTLP_TRACES_ENDPOINT`` by a background thread; a collector
that is down costs dropped spans, never a failed request. Redis commands get spans of their own
(opentelemetry-instrumentation-redis); the gateway's HTTP server spans come from the FastAPI
instrumentation (``app.main``), which reads the client's W3C ``traceparent``.

The trace crosses RabbitMQ inside the task message itself (``TaskMessage.trace_context``): the
gateway injects its publish span's context there, the worker continues from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from structlog.typing import EventDict, WrappedLogger

from config.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["add_trace_ids", "configure_tracing", "is_active", "span"]

_active = False  # set once by configure_tracing, read on every request


def is_active() -> bool:
    """Whether this process records spans."""
    return _active


def span(tracer: trace.Tracer, name: str, **options: Any) -> AbstractContextManager[None]:
    """``tracer.start_as_current_span(name, **options)`` while tracing is on; otherwise a
    ``nullcontext``, so the request path pays nothing for tracing that is off."""
    if not _active:
        return nullcontext()
    return _current_span(tracer, name, **options)


@contextmanager
def _current_span(tracer: trace.Tracer, name: str, **options: Any) -> Iterator[None]:
    with tracer.start_as_current_span(name, **options):
        yield


def configure_tracing(settings: Settings, *, service_name: str) -> TracerProvider | None:
    """Install the process's tracer provider; returns it (to shut down, flushing the last
    spans, on exit), or None when tracing is off."""
    if not settings.tracing_enabled:
        return None
    # The stable HTTP semantic conventions (http.response.status_code, http.route, ...), which
    # current backends and dashboards expect; the instrumentations still default to the old.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, "service.namespace": "snapmatch"}),
        # A client's sampled traceparent is followed; new traces are sampled at the ratio.
        sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_ratio)),
    )
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_traces_endpoint, timeout=5))
    )
    trace.set_tracer_provider(provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    global _active
    _active = True
    return provider


def add_trace_ids(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the current trace and span ids on every line logged inside a
    recorded span, so that a log line leads to its trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict

"""The gateway's HTTP server spans, when tracing is on (``config.tracing``).

opentelemetry-instrumentation-fastapi wraps the whole middleware stack: each request gets a
server span named after its route template (``POST /predict``), continuing the client's W3C
``traceparent`` when it sends one. Probes and scrapes are left out, and so are the per-message
``receive``/``send`` spans, which would add dozens of spans to every upload.
"""

from fastapi import FastAPI

_UNTRACED_PATHS = "/health,/ready,/metrics"


def trace_requests(app: FastAPI) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=_UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )

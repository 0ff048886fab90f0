"""The gateway: its middleware stack, its routes, and the services it holds while it runs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware import Middleware

from app.api.errors import install_error_handlers
from app.api.routes import (
    batches,
    health,
    history,
    metrics,
    models,
    predict,
    products,
    results,
    uploads,
    web,
)
from app.api.routes.batches import BATCH_PATH
from app.auth.app_check import APP_CHECK_HEADER
from app.core.metrics import GatewayMetrics
from app.http.body_guard import BodyGuardMiddleware
from app.http.lingering_close import LingeringCloseMiddleware
from app.http.request_id import REQUEST_ID_HEADER, add_request_id, request_id_middleware
from app.http.security_headers import SecurityHeadersMiddleware
from app.http.telemetry import TelemetryMiddleware
from app.http.tracing import trace_requests
from app.services import running_services
from app.tasks.upload_form import MAX_BATCH_IMAGES
from app.web.static import page_files
from config import Settings, get_settings
from config.structured_logging import configure_logging
from config.tracing import add_trace_ids, configure_tracing

# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics_registry = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_services(settings, metrics_registry) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="snapmatch",
        version="0.1.0",
        summary="Photo in, ImageNet labels out: upload with a Firebase ID token, poll the result.",
        lifespan=lifespan,
        # Served by app.api.routes.web from this gateway's own files, not from a CDN.
        docs_url=None,
        redoc_url=None,
        # Outermost first. Lingering close drains a refused body once everything inside has
        # answered and logged. The request id and the security headers wrap the rest, so even
        # early refusals and the telemetry layer's 500 carry them; telemetry sees what the body
        # guard refuses.
        middleware=[
            Middleware(
                LingeringCloseMiddleware,
                max_drain_bytes=settings.refused_body_drain_bytes,
                max_drain_seconds=settings.refused_body_drain_seconds,
            ),
            request_id_middleware(),
            Middleware(SecurityHeadersMiddleware),
            Middleware(TelemetryMiddleware, metrics=metrics_registry),
            *_cors(settings),
            Middleware(
                BodyGuardMiddleware,
                max_body_bytes=settings.max_upload_bytes + _MULTIPART_OVERHEAD_BYTES,
                path_limits={
                    BATCH_PATH: MAX_BATCH_IMAGES * settings.max_upload_bytes
                    + _MULTIPART_OVERHEAD_BYTES
                },
            ),
        ],
    )
    install_error_handlers(app)
    for module in (
        health,
        uploads,
        batches,
        predict,
        results,
        history,
        metrics,
        products,
        models,
        web,
    ):
        app.include_router(module.router)
    # After the routers: /app/config.json is a route, the rest of /app/ the built page.
    app.mount(web.PAGE_PATH.rstrip("/"), page_files(settings), name="web")
    if settings.tracing_enabled:
        trace_requests(app)
    return app


def _cors(settings: Settings) -> list[Middleware]:
    """CORS only for the configured origins (none by default: a mobile app needs none)."""
    if not settings.cors_allowed_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "HEAD", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "Idempotency-Key",
                APP_CHECK_HEADER,
                REQUEST_ID_HEADER,
                "If-None-Match",
                "Range",
                "If-Range",
            ],
            expose_headers=[
                "Location",
                "Retry-After",
                REQUEST_ID_HEADER,
                "Idempotent-Replayed",
                "ETag",
                "Content-Range",
                "Accept-Ranges",
                "X-Model-Version",
            ],
            max_age=600,
        )
    ]


def main() -> None:
    """Run the gateway with uvicorn on the configured address."""
    import uvicorn

    settings = get_settings()
    tracing = configure_tracing(settings, service_name="snapmatch-gateway")
    configure_logging(
        settings.log_level,
        process="gateway",
        processors=[add_request_id, *([add_trace_ids] if tracing else [])],
    )
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the JSON logging configured above
        timeout_graceful_shutdown=settings.gateway_shutdown_timeout_seconds,
        access_log=False,  # app.http.telemetry logs each request with its request id
        server_header=False,  # don't advertise the server software
    )
    if tracing is not None:
        tracing.shutdown()  # sends the spans still batched

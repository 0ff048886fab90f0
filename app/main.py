"""Gateway application factory: one publisher, one result store, one token verifier."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api.routes import health, metrics, predict, products, results
from app.app_check import APP_CHECK_HEADER, AppCheckVerifier
from app.auth import TokenVerifier
from app.body_limit import BodySizeLimitMiddleware
from app.broker import TaskPublisher
from app.catalog.service import Catalog
from app.errors import install_error_handlers
from app.http_hygiene import REQUEST_ID_HEADER, HttpHygieneMiddleware
from app.idempotency import IdempotencyStore
from app.metrics import GatewayMetrics, MetricsMiddleware
from app.rate_limit import UserRateLimiter
from app.result_store import ResultStore
from app.result_waiter import ResultNotifier
from app.unread_body import CloseUnreadBodyMiddleware
from config import Settings, get_settings
from config.structured_logging import configure_logging

# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    gateway_metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.verifier = TokenVerifier(settings)
        app.state.store = ResultStore(settings)
        app.state.publisher = TaskPublisher(settings, gateway_metrics)
        # --- abuse resistance
        app.state.app_check = (
            AppCheckVerifier(app.state.verifier.app) if settings.app_check_enabled else None
        )
        app.state.rate_limiter = UserRateLimiter(settings)
        app.state.idempotency = IdempotencyStore(settings)
        # ---
        await app.state.publisher.start()
        app.state.catalog = Catalog(settings)
        app.state.catalog.start()
        app.state.notifier = ResultNotifier(settings)
        app.state.notifier.start()
        try:
            yield
        finally:
            await app.state.notifier.close()
            await app.state.idempotency.close()
            await app.state.rate_limiter.close()
            await app.state.catalog.close()
            await app.state.publisher.close()
            await app.state.store.close()
            app.state.verifier.close()

    app = FastAPI(
        title="snapmatch",
        version="0.1.0",
        summary="Photo in, ImageNet labels out: upload with a Firebase ID token, poll the result.",
        lifespan=lifespan,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=settings.max_upload_bytes + _MULTIPART_OVERHEAD_BYTES,
    )
    app.add_middleware(CloseUnreadBodyMiddleware)
    _add_http_hygiene(app, settings)
    # Added last, so outermost: it also counts what the body limit and the hygiene layer answer.
    app.state.metrics = gateway_metrics
    app.add_middleware(MetricsMiddleware, metrics=gateway_metrics)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(predict.router)
    app.include_router(results.router)
    app.include_router(metrics.router)
    app.include_router(products.router)
    return app


def _add_http_hygiene(app: FastAPI, settings: Settings) -> None:
    """CORS only for the configured origins (none by default); request ids and security
    headers on every response, outermost so that even early refusals carry them."""
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Idempotency-Key", APP_CHECK_HEADER, REQUEST_ID_HEADER],
            expose_headers=["Location", "Retry-After", REQUEST_ID_HEADER, "Idempotent-Replayed"],
            max_age=600,
        )
    app.add_middleware(HttpHygieneMiddleware)


def main() -> None:
    """Run the gateway with uvicorn on the configured address."""
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, process="gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the JSON logging configured above
        timeout_graceful_shutdown=settings.gateway_shutdown_timeout_seconds,
        access_log=False,  # app.access logs each request with its request id
        server_header=False,  # don't advertise the server software
    )

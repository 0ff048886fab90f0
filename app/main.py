"""Gateway application factory: one publisher, one result store, one token verifier."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.routes import health, predict, results
from app.auth import TokenVerifier
from app.body_limit import BodySizeLimitMiddleware
from app.broker import TaskPublisher
from app.errors import install_error_handlers
from app.result_store import ResultStore
from app.result_waiter import ResultNotifier
from config import Settings, get_settings

# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.verifier = TokenVerifier(settings)
        app.state.store = ResultStore(settings)
        app.state.publisher = TaskPublisher(settings)
        await app.state.publisher.start()
        app.state.notifier = ResultNotifier(settings)
        app.state.notifier.start()
        try:
            yield
        finally:
            await app.state.notifier.close()
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
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(predict.router)
    app.include_router(results.router)
    return app


def main() -> None:
    """Run the gateway with uvicorn on the configured address."""
    import uvicorn

    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )

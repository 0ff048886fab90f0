"""Liveness and readiness probes (no authentication)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import CatalogDep, PhotosDep, PublisherDep, StoreDep
from app.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health, operation_id="getHealth")
async def health() -> Health:
    """The process is up. Says nothing about its dependencies: see /ready."""
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        503: {"model": Readiness, "description": "RabbitMQ, Redis or the photo store is down."}
    },
    operation_id="getReadiness",
)
async def ready(
    publisher: PublisherDep, store: StoreDep, catalog: CatalogDep, photos: PhotosDep
) -> JSONResponse:
    """200 when RabbitMQ, Redis and the photo store (object storage) answer; otherwise 503
    naming what is down: without the store no upload can be accepted.

    MariaDB is reported too, but a catalog outage only degrades the service (results come back
    without products, search answers 503), so it keeps the 200: ``"status": "degraded"``.
    """
    checks = {
        "rabbitmq": "ok" if publisher.is_ready else "down: not connected",
        "redis": "ok" if await store.ping() else "down: no answer to PING",
        "object_store": "ok" if await photos.ping() else "down: the photo bucket does not answer",
    }
    healthy = all(state == "ok" for state in checks.values())
    checks["mariadb"] = await catalog.ping()
    status = "unavailable" if not healthy else "ready" if checks["mariadb"] == "ok" else "degraded"
    body = Readiness(status=status, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)

"""Liveness and readiness probes (no authentication)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import CatalogDep, PublisherDep, StoreDep
from app.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health, operation_id="getHealth")
async def health() -> Health:
    """The process is up. Says nothing about its dependencies: see /ready."""
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "RabbitMQ or Redis is down."}},
    operation_id="getReadiness",
)
async def ready(publisher: PublisherDep, store: StoreDep, catalog: CatalogDep) -> JSONResponse:
    """200 when RabbitMQ and Redis both answer; otherwise 503 naming what is down.

    MariaDB is reported too, but a catalog outage only degrades the service (results come back
    without products, search answers 503), so it keeps the 200: ``"status": "degraded"``.
    """
    checks = {
        "rabbitmq": "ok" if publisher.is_ready else "down: not connected",
        "redis": "ok" if await store.ping() else "down: no answer to PING",
    }
    healthy = all(state == "ok" for state in checks.values())
    checks["mariadb"] = await catalog.ping()
    status = "unavailable" if not healthy else "ready" if checks["mariadb"] == "ok" else "degraded"
    body = Readiness(status=status, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)

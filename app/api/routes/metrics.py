"""GET /metrics: the gateway's Prometheus exposition (no authentication; keep it internal)."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import MetricsDep, PublisherDep, SettingsDep

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    operation_id="getMetrics",
    summary="Prometheus metrics of the gateway",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition."}},
)
async def metrics(
    gateway_metrics: MetricsDep, publisher: PublisherDep, settings: SettingsDep
) -> Response:
    """Request counts and latencies by route template, publish latency, 429/503 counts, and
    the task queue's depth and consumer count (read from RabbitMQ now)."""
    gateway_metrics.set_queue(settings.task_queue, await publisher.queue_counts())
    return Response(generate_latest(gateway_metrics.registry), media_type=CONTENT_TYPE_LATEST)

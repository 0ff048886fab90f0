"""Gateway metrics logic that needs no running services: route templates, queue gauges."""

from typing import Any

from app.core.metrics import GatewayMetrics
from app.http.telemetry import UNMATCHED_ROUTE, TelemetryMiddleware
from app.main import create_app


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called")


def test_paths_are_labelled_by_route_template_never_by_raw_path() -> None:
    app = create_app()
    middleware = TelemetryMiddleware(_no_app, metrics=GatewayMetrics())

    def template(path: str) -> str:
        return middleware.route_template({"type": "http", "path": path, "app": app})

    assert template("/predict") == "/predict"
    assert template("/result/0b9e6a52-0000-4000-8000-000000000000") == "/result/{task_id}"
    assert template("/openapi.json") == "/openapi.json"  # not in the schema, still a route
    assert template("/wp-login.php") == UNMATCHED_ROUTE


def test_queue_gauges_vanish_while_the_broker_is_unreachable() -> None:
    metrics = GatewayMetrics()
    metrics.set_queue("tasks", (7, 3))
    sample = metrics.registry.get_sample_value
    assert sample("snapmatch_queue_messages", {"queue": "tasks"}) == 7
    assert sample("snapmatch_queue_consumers", {"queue": "tasks"}) == 3
    metrics.set_queue("tasks", None)
    assert sample("snapmatch_queue_messages", {"queue": "tasks"}) is None
    assert sample("snapmatch_queue_consumers", {"queue": "tasks"}) is None
    metrics.set_queue("tasks", None)  # already gone: no error


def test_the_upload_declares_the_optional_fcm_token_field() -> None:
    spec = create_app().openapi()
    form = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["multipart/form-data"][
        "schema"
    ]
    assert form["oneOf"] == [{"required": ["image"]}, {"required": ["upload_id"]}]
    assert "fcm_token" in form["properties"]
    assert "registration token" in form["properties"]["fcm_token"]["description"]

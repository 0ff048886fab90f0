"""The page's static files: cache headers by kind of file, and a clear 404 when unbuilt."""

from pathlib import Path

from fastapi.testclient import TestClient

from app.core.metrics import GatewayMetrics
from app.http.telemetry import TelemetryMiddleware
from app.main import create_app
from app.web.static import IMMUTABLE, REVALIDATE
from config import Settings


def _client(web_dir: Path) -> TestClient:
    # No `with`: the lifespan (RabbitMQ, Redis, MariaDB) is not needed for static files.
    return TestClient(create_app(Settings(_env_file=None, web_dir=web_dir)))


def test_hashed_bundles_are_cached_for_good_and_the_rest_revalidated(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "assets" / "index-3f9a1b.js").write_text("export {};")
    client = _client(tmp_path)

    page = client.get("/app/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == REVALIDATE
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src")
    bundle = client.get("/app/assets/index-3f9a1b.js")
    assert bundle.headers["Cache-Control"] == IMMUTABLE


def test_an_unbuilt_page_says_how_to_build_it(tmp_path: Path) -> None:
    response = _client(tmp_path / "missing").get("/app/")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "web_app_not_built"
    assert "make web" in body["detail"]


def test_the_pages_files_share_one_route_in_the_metrics(tmp_path: Path) -> None:
    app = create_app(Settings(_env_file=None, web_dir=tmp_path))
    telemetry = TelemetryMiddleware(app, metrics=GatewayMetrics())
    for path in ("/app/", "/app/assets/index-3f9a1b.js"):
        assert telemetry.route_template({"app": app, "path": path}) == "/app/{path:path}"
    assert telemetry.route_template({"app": app, "path": "/wp-login.php"}) == "<unmatched>"

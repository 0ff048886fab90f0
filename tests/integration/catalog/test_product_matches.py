"""Product matches in results, end to end, and what a catalog outage does (and does not) cost."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.catalog import catalog_ready, start_mariadb, stop_mariadb
from tests.support.client import auth, poll, upload
from tests.support.imagenet import CAT_CLASSES, COFFEE_CLASSES
from tools.devstack import Stack, delete_queue, free_port, wait_until
from tools.devstack.emulator import SignedInUser

PRODUCT_FIELDS = {
    "id", "sku", "name", "brand", "price", "currency", "category", "image_url", "in_stock", "score"
}  # fmt: skip


def test_a_photo_of_an_espresso_comes_back_with_cups_to_buy(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(catalog_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    result = poll(catalog_stack.base_url, user.id_token, task_id)
    assert result["predictions"][0]["class_id"] in COFFEE_CLASSES
    assert result["products_status"] == "ok"
    products = result["products"]
    assert len(products) == 5  # SNAPMATCH_PRODUCT_MATCHES default
    assert all(set(p) == PRODUCT_FIELDS for p in products)
    assert {p["category"]["slug"] for p in products} == {"mugs-and-cups"}
    scores = [p["score"] for p in products]
    assert scores == sorted(scores, reverse=True)
    assert 0.05 <= scores[0] <= 1.0
    # A product in a result is the same product the catalog serves.
    detail = httpx.get(
        f"{catalog_stack.base_url}/products/{products[0]['id']}", headers=auth(user.id_token)
    ).json()
    assert (detail["name"], detail["price"]) == (products[0]["name"], products[0]["price"])


def test_a_photo_of_a_cat_comes_back_with_labels_and_no_products(
    catalog_stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    task_id = upload(catalog_stack.base_url, user.id_token, cat_jpeg).json()["task_id"]
    result = poll(catalog_stack.base_url, user.id_token, task_id)
    assert result["status"] == "done"
    assert result["predictions"][0]["class_id"] in CAT_CLASSES
    assert len(result["predictions"]) == 5
    assert result["products"] == []
    assert result["products_status"] == "ok"


@pytest.fixture
def mariadb_stopped(catalog_stack: Stack) -> Iterator[Stack]:
    """MariaDB shut down for the test, and always started again afterwards."""
    stop_mariadb()
    try:
        yield catalog_stack
    finally:
        start_mariadb()


def test_with_mariadb_stopped_search_is_503_and_results_keep_their_labels(
    mariadb_stopped: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    base_url = mariadb_stopped.base_url
    started = time.monotonic()
    search = httpx.get(
        f"{base_url}/products/search", params={"q": "mug"}, headers=auth(user.id_token)
    )
    assert time.monotonic() - started < 5.0  # refused connections fail at once, no hang
    assert search.status_code == 503, search.text
    assert search.json()["error"] == "catalog_unavailable"
    assert search.headers["Retry-After"]

    ready = httpx.get(f"{base_url}/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["mariadb"].startswith("down")

    task_id = upload(base_url, user.id_token, coffee_jpeg).json()["task_id"]
    result = poll(base_url, user.id_token, task_id)
    assert result["status"] == "done"
    assert result["predictions"][0]["class_id"] in COFFEE_CLASSES
    assert result["products"] == []
    assert result["products_status"] == "unavailable"

    # Back up: the same gateway recovers by itself and the same result gains its products.
    start_mariadb()
    wait_until(lambda: catalog_ready(base_url), timeout=60, what="the catalog to come back")
    again = poll(base_url, user.id_token, task_id)
    assert again["products_status"] == "ok"
    assert again["products"]
    assert again["predictions"] == result["predictions"]


def test_a_gateway_started_without_its_database_serves_everything_else(
    built_model: Path, tmp_path: Path, user: SignedInUser
) -> None:
    nowhere = f"mariadb://snapmatch:snapmatch@127.0.0.1:{free_port()}/snapmatch"
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={"SNAPMATCH_DATABASE_URL": nowhere},
    )
    stack.start_gateway(probe="/health")
    try:
        ready_response = httpx.get(f"{stack.base_url}/ready")
        assert ready_response.status_code == 200  # degraded, not unavailable
        ready = ready_response.json()
        assert ready["status"] == "degraded"
        assert ready["checks"] == {
            "rabbitmq": "ok",
            "redis": "ok",
            "object_store": "ok",
            "mariadb": "down: no connection",
        }
        for path in ("/products/search?q=mug", "/products/1", "/categories"):
            response = httpx.get(f"{stack.base_url}{path}", headers=auth(user.id_token))
            assert response.status_code == 503, path
            assert response.json()["error"] == "catalog_unavailable"
    finally:
        stack.stop()
        delete_queue(stack.queue)

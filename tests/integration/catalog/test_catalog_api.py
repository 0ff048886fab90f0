"""GET /products/search, /products/{id} and /categories through the real gateway over HTTP."""

from typing import Any

import httpx
import pytest

from app.catalog.seed import SeedCatalog
from tests.support.client import auth
from tools.devstack import Stack, wait_until
from tools.devstack.emulator import SignedInUser


@pytest.fixture(scope="module")
def catalog_url(stack: Stack, seeded_catalog: SeedCatalog) -> str:
    """The shared gateway, once it reports the catalog usable."""

    def catalog_ok() -> bool:
        return bool(httpx.get(f"{stack.base_url}/ready").json()["checks"]["mariadb"] == "ok")

    wait_until(catalog_ok, timeout=60, what="the gateway's catalog")
    return stack.base_url


def _search(base_url: str, token: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{base_url}/products/search", params=params, headers=auth(token), timeout=10)


def _names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_search_ranks_the_closest_match_first(catalog_url: str, user: SignedInUser) -> None:
    response = _search(catalog_url, user.id_token, q="espresso cup")
    body = response.json()
    assert _names(response)[0] == "Espresso cup set of 6, matte black"
    relevance = [item["relevance"] for item in body["items"]]
    assert relevance == sorted(relevance, reverse=True)
    first = body["items"][0]
    assert first["category"] == {"slug": "mugs-and-cups", "name": "Mugs & cups"}
    assert first["price"] == "29.00" and first["currency"] == "EUR"
    assert first["image_url"].startswith("https://")
    assert isinstance(first["in_stock"], bool)


def test_search_by_words_of_the_name(catalog_url: str, user: SignedInUser) -> None:
    response = _search(catalog_url, user.id_token, q="running shoe", limit=5)
    assert all("running shoe" in name.lower() for name in _names(response))


def test_category_filter(catalog_url: str, user: SignedInUser) -> None:
    everywhere = _search(catalog_url, user.id_token, q="leather", limit=50).json()["items"]
    assert len({item["category"]["slug"] for item in everywhere}) > 3
    wallets = _search(catalog_url, user.id_token, q="leather", category="wallets").json()
    assert wallets["items"]
    assert {item["category"]["slug"] for item in wallets["items"]} == {"wallets"}


def test_pagination_walks_the_same_ranking(catalog_url: str, user: SignedInUser) -> None:
    whole = _search(catalog_url, user.id_token, q="leather", limit=12).json()
    assert whole["next_offset"] is not None
    pages = []
    offset: int | None = 0
    while offset is not None and offset < 12:
        page = _search(catalog_url, user.id_token, q="leather", limit=4, offset=offset).json()
        assert page["limit"] == 4 and page["offset"] == offset
        pages += [item["id"] for item in page["items"]]
        offset = page["next_offset"]
    assert pages == [item["id"] for item in whole["items"]]

    last = _search(catalog_url, user.id_token, q="leather", limit=50).json()
    assert last["next_offset"] is None
    beyond = _search(catalog_url, user.id_token, q="leather", offset=len(last["items"])).json()
    assert beyond["items"] == [] and beyond["next_offset"] is None


@pytest.mark.parametrize(
    "attack",
    [
        "'; DROP TABLE products; --",
        '" OR 1=1 --',
        "1' UNION SELECT id, sku, name FROM categories --",
        "%",
        "_",
        "\\",
        "+coffee -mug* @distance 3",
    ],
)
def test_injection_attempts_are_just_text(
    catalog_url: str, user: SignedInUser, seeded_catalog: SeedCatalog, attack: str
) -> None:
    response = _search(catalog_url, user.id_token, q=attack, limit=50)
    assert response.status_code == 200, response.text
    # Wildcards are literal: '%' and '_' do not match every product.
    assert len(response.json()["items"]) < 50
    categories = httpx.get(f"{catalog_url}/categories", headers=auth(user.id_token)).json()
    total = sum(len(c.products) for c in seeded_catalog.categories)
    assert sum(c["product_count"] for c in categories) >= total


def test_unicode_queries(catalog_url: str, user: SignedInUser) -> None:
    accented = _names(_search(catalog_url, user.id_token, q="café"))
    assert accented == _names(_search(catalog_url, user.id_token, q="cafe"))
    assert accented
    assert _names(_search(catalog_url, user.id_token, q="Crème"))[0].startswith("Crème")
    assert _names(_search(catalog_url, user.id_token, q="鉄瓶")) == [
        "Tetsubin cast-iron teapot 鉄瓶 0.8 l"
    ]
    assert _names(_search(catalog_url, user.id_token, q="☕🙂")) == []


def test_a_query_too_short_for_the_index_matches_name_prefixes(
    catalog_url: str, user: SignedInUser
) -> None:
    names = _names(_search(catalog_url, user.id_token, q="tv"))
    assert names
    assert all(any(w.lower().startswith("tv") for w in name.split()) for name in names)


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({}, "validation_error", "q"),
        ({"q": ""}, "validation_error", "q"),
        ({"q": "x" * 201}, "validation_error", "q"),
        ({"q": "   "}, "invalid_query", None),
        ({"q": "mug", "limit": 0}, "validation_error", "limit"),
        ({"q": "mug", "limit": 51}, "validation_error", "limit"),
        ({"q": "mug", "limit": "ten"}, "validation_error", "limit"),
        ({"q": "mug", "offset": -1}, "validation_error", "offset"),
        ({"q": "mug", "category": "Mugs & Cups"}, "validation_error", "category"),
        ({"q": "mug", "category": "no-such-category"}, "unknown_category", None),
    ],
)
def test_bad_search_parameters_are_422(
    catalog_url: str, user: SignedInUser, params: dict[str, Any], code: str, field: str | None
) -> None:
    response = _search(catalog_url, user.id_token, **params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == code
    assert body["detail"]
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field]


def test_the_catalog_needs_a_token(catalog_url: str) -> None:
    for path in ("/products/search?q=mug", "/products/1", "/categories"):
        response = httpx.get(f"{catalog_url}{path}")
        assert response.status_code == 401
        assert response.json()["error"] == "missing_token"


def test_one_product_in_full(catalog_url: str, user: SignedInUser) -> None:
    hit = _search(catalog_url, user.id_token, q="tetsubin").json()["items"][0]
    response = httpx.get(f"{catalog_url}/products/{hit['id']}", headers=auth(user.id_token))
    assert response.status_code == 200
    product = response.json()
    assert product["sku"] == hit["sku"] == "TEA-001"
    assert product["attributes"] == {"capacity": "0.8 l", "material": "cast iron"}
    assert product["description"].startswith("Japanese cast-iron teapot")
    assert product["stock"] >= 0 and product["in_stock"] == (product["stock"] > 0)

    missing = httpx.get(f"{catalog_url}/products/4000000000", headers=auth(user.id_token))
    assert missing.status_code == 404
    assert missing.json()["error"] == "product_not_found"
    for bad in ("abc", "0", "-1"):
        response = httpx.get(f"{catalog_url}/products/{bad}", headers=auth(user.id_token))
        assert response.status_code == 422
        assert response.json()["error"] == "validation_error"


def test_categories_list_the_seed(
    catalog_url: str, user: SignedInUser, seeded_catalog: SeedCatalog
) -> None:
    response = httpx.get(f"{catalog_url}/categories", headers=auth(user.id_token))
    assert response.status_code == 200
    listed = {c["slug"]: c for c in response.json()}
    for category in seeded_catalog.categories:
        assert listed[category.slug]["name"] == category.name
        assert listed[category.slug]["product_count"] >= len(category.products)
        assert listed[category.slug]["class_ids"] == sorted(c.id for c in category.classes)

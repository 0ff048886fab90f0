"""The product catalog: text search, one product, the categories."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.deps import CatalogDep, CurrentUser
from app.api.openapi import error_responses
from app.catalog.models import Category, Product, SearchPage
from app.core.errors import APIError

router = APIRouter(tags=["catalog"])

SEARCH_MAX_LIMIT = 50
SEARCH_MAX_OFFSET = 10_000

_UNAUTHORISED = "Missing or invalid Firebase ID token (or App Check token, when required)."
_UNAVAILABLE = "Catalog database or token verification unavailable; retry later."


@router.get(
    "/products/search",
    response_model=SearchPage,
    responses=error_responses(
        {
            401: _UNAUTHORISED,
            422: "Bad query, category, limit or offset.",
            503: _UNAVAILABLE,
        }
    ),
    operation_id="searchProducts",
    summary="Search the catalog by text",
)
async def search_products(
    user: CurrentUser,
    catalog: CatalogDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Words to look for in product names, brands and descriptions.",
        ),
    ],
    category: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9-]{1,64}$", description="Only this category (its slug)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=SEARCH_MAX_OFFSET)] = 0,
) -> SearchPage:
    """Products ranked by full-text relevance (a name match counts double); queries whose
    words are all shorter than three characters match name prefixes instead."""
    query = " ".join(q.split())
    if not query:
        raise APIError(422, "invalid_query", "q must contain something besides whitespace")
    page = await catalog.search(query=query, category=category, limit=limit, offset=offset)
    if not page.items and category is not None and not await catalog.category_exists(category):
        raise APIError(422, "unknown_category", f"no category '{category}'; see GET /categories")
    return page


@router.get(
    "/products/{product_id}",
    response_model=Product,
    responses=error_responses(
        {
            401: _UNAUTHORISED,
            404: "No product with this id.",
            422: "The id is not a positive integer.",
            503: _UNAVAILABLE,
        }
    ),
    operation_id="getProduct",
    summary="One product with its description, stock and attributes",
)
async def get_product(
    user: CurrentUser,
    catalog: CatalogDep,
    product_id: Annotated[int, Path(ge=1, le=2**32 - 1)],
) -> Product:
    product = await catalog.product(product_id)
    if product is None:
        raise APIError(404, "product_not_found", f"no product with id {product_id}")
    return product


@router.get(
    "/categories",
    response_model=list[Category],
    responses=error_responses({401: _UNAUTHORISED, 503: _UNAVAILABLE}),
    operation_id="listCategories",
    summary="The catalog's categories with their product counts",
)
async def list_categories(user: CurrentUser, catalog: CatalogDep) -> list[Category]:
    return await catalog.categories()

"""The product catalog: text search, one product, the categories."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.deps import CatalogDep, CurrentUser, SettingsDep
from app.api.openapi import error_responses
from app.catalog.matching import parse_predicted_classes, products_for_classes
from app.catalog.models import Category, Product, ProductMatches, SearchPage
from app.core.errors import APIError

router = APIRouter(tags=["catalog"])

SEARCH_MAX_LIMIT = 50
SEARCH_MAX_OFFSET = 10_000
# Room for top-k pairs written out in full ("0.6212345678901234,...").
_MATCH_PARAM_MAX_LENGTH = 2000

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
    "/products/matches",
    response_model=ProductMatches,
    responses=error_responses(
        {
            401: _UNAUTHORISED,
            422: "Class ids not integers 0-999, confidences not numbers 0-1, the two lists of "
            "different lengths, more pairs than the server's top-k, or a class id twice.",
            503: _UNAVAILABLE,
        },
        examples={
            422: (
                "mismatched_pairs",
                "2 class ids but 1 confidences: send one confidence per class id",
            )
        },
    ),
    operation_id="matchProducts",
    summary="Products for predicted classes (a model run on the device)",
)
async def match_products(
    user: CurrentUser,
    catalog: CatalogDep,
    settings: SettingsDep,
    class_ids: Annotated[
        str,
        Query(
            min_length=1,
            max_length=_MATCH_PARAM_MAX_LENGTH,
            description="ImageNet-1k class indices (0-999), comma-separated, each once.",
            examples=["967,968"],
        ),
    ],
    confidences: Annotated[
        str,
        Query(
            min_length=1,
            max_length=_MATCH_PARAM_MAX_LENGTH,
            description="One confidence (0-1) per class id, in the same order.",
            examples=["0.62,0.21"],
        ),
    ],
) -> ProductMatches:
    """The products a server result with these predictions would carry, ranked the same way
    (confidence x category weight, summed; in stock first among equals; at most
    SNAPMATCH_PRODUCT_MATCHES, none under SNAPMATCH_PRODUCT_MIN_SCORE). For an app that runs
    the model itself: send its top-k classes and confidences."""
    classes = parse_predicted_classes(class_ids, confidences, most=settings.top_k)
    return ProductMatches(classes=classes, products=await products_for_classes(classes, catalog))


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

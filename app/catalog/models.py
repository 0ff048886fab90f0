"""What the catalog returns: categories, products, search pages and a result's matches."""

from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class CategoryRef(BaseModel):
    slug: str = Field(examples=["mugs-and-cups"])
    name: str = Field(examples=["Mugs & cups"])


class Category(CategoryRef):
    product_count: int = Field(ge=0)
    class_ids: list[int] = Field(description="ImageNet-1k classes this category covers.")


class ProductSummary(BaseModel):
    id: int
    sku: str
    name: str
    brand: str
    price: Decimal = Field(description='Decimal string, e.g. "14.90".', examples=["14.90"])
    currency: str = Field(description="ISO 4217 code.", examples=["EUR"])
    category: CategoryRef
    image_url: str
    in_stock: bool


class ProductMatch(ProductSummary):
    score: float = Field(
        description="Sum over the result's predictions of confidence x the category's weight "
        "for that class: higher is a better match."
    )


class SearchHit(ProductSummary):
    relevance: float = Field(description="Full-text relevance (higher first).")


class Product(ProductSummary):
    description: str
    stock: int = Field(ge=0)
    attributes: dict[str, str]


class SearchPage(BaseModel):
    query: str
    category: str | None
    limit: int
    offset: int
    items: list[SearchHit]
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class ScoredClass(Protocol):
    """What product matching reads of a prediction: a result's ``Prediction`` or a
    ``PredictedClass`` sent by a client that ran the model itself."""

    @property
    def class_id(self) -> int: ...

    @property
    def confidence(self) -> float: ...


class PredictedClass(BaseModel):
    model_config = ConfigDict(frozen=True)

    class_id: int = Field(ge=0, le=999, description="ImageNet-1k class index.")
    confidence: float = Field(ge=0.0, le=1.0)


class ProductMatches(BaseModel):
    classes: list[PredictedClass] = Field(description="The classes asked about, as parsed.")
    products: list[ProductMatch] = Field(
        description="Best first, ranked exactly as a result's `products`; empty when nothing fits."
    )

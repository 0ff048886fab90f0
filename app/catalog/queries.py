"""The catalog's SQL, one function per question, each taking a connection (run in a thread).

Every value reaches MariaDB as a bound parameter; the only SQL assembled at run time is a fixed
fragment chosen by the code (a category filter, one placeholder pair per prediction).
"""

import json
import re
from collections.abc import Sequence
from typing import Any

import mariadb

from app.catalog.models import (
    Category,
    CategoryRef,
    Product,
    ProductMatch,
    ScoredClass,
    SearchHit,
    SearchPage,
)

# InnoDB's innodb_ft_min_token_size (default 3): shorter words are not in the FULLTEXT index.
FULLTEXT_MIN_TOKEN = 3
_WORD = re.compile(r"\w+")

_SUMMARY_COLUMNS = """
    p.id, p.sku, p.name, p.brand, p.price, p.currency, p.stock, p.image_url,
    c.slug, c.name
"""


def _summary(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "sku": row[1],
        "name": row[2],
        "brand": row[3],
        "price": row[4],
        "currency": row[5],
        "in_stock": row[6] > 0,
        "image_url": row[7],
        "category": CategoryRef(slug=row[8], name=row[9]),
    }


def uses_fulltext(query: str) -> bool:
    """Whether the FULLTEXT index can answer ``query`` (some word is long enough to be indexed)."""
    return any(len(word) >= FULLTEXT_MIN_TOKEN for word in _WORD.findall(query))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_products(
    connection: mariadb.Connection, *, query: str, category: str | None, limit: int, offset: int
) -> SearchPage:
    """One page of products matching ``query``, best first.

    Natural-language FULLTEXT search over name, brand and description, with a name match
    counting double. Queries with no word of FULLTEXT_MIN_TOKEN characters (``tv``, ``4k``)
    fall back to a prefix match on the name or on a word of it.
    """
    category_filter = "AND c.slug = ?" if category is not None else ""
    category_args: tuple[Any, ...] = (category,) if category is not None else ()
    if uses_fulltext(query):
        sql = f"""
            SELECT {_SUMMARY_COLUMNS},
                   MATCH (p.name) AGAINST (? IN NATURAL LANGUAGE MODE) * 2
                   + MATCH (p.name, p.brand, p.description) AGAINST (? IN NATURAL LANGUAGE MODE)
                   AS relevance
            FROM products p JOIN categories c ON c.id = p.category_id
            WHERE MATCH (p.name, p.brand, p.description) AGAINST (? IN NATURAL LANGUAGE MODE)
              {category_filter}
            ORDER BY relevance DESC, p.id
            LIMIT ? OFFSET ?
        """  # noqa: S608 - fixed fragments only; values are bound
        args: tuple[Any, ...] = (query, query, query, *category_args, limit + 1, offset)
    else:
        prefix = _like_escape(query) + "%"
        sql = f"""
            SELECT {_SUMMARY_COLUMNS},
                   IF(p.name LIKE ?, 2.0, 1.0) AS relevance
            FROM products p JOIN categories c ON c.id = p.category_id
            WHERE (p.name LIKE ? OR p.name LIKE ?)
              {category_filter}
            ORDER BY relevance DESC, p.name, p.id
            LIMIT ? OFFSET ?
        """  # noqa: S608 - fixed fragments only; values are bound
        args = (prefix, prefix, "% " + prefix, *category_args, limit + 1, offset)
    cursor = connection.cursor()
    try:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    hits = [SearchHit(**_summary(row), relevance=float(row[10])) for row in rows[:limit]]
    return SearchPage(
        query=query,
        category=category,
        limit=limit,
        offset=offset,
        items=hits,
        next_offset=offset + limit if len(rows) > limit else None,
    )


def category_exists(connection: mariadb.Connection, slug: str) -> bool:
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT 1 FROM categories WHERE slug = ?", (slug,))
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def get_product(connection: mariadb.Connection, product_id: int) -> Product | None:
    cursor = connection.cursor()
    try:
        cursor.execute(
            f"""
            SELECT {_SUMMARY_COLUMNS}, p.description, p.attributes
            FROM products p JOIN categories c ON c.id = p.category_id
            WHERE p.id = ?
            """,  # noqa: S608 - constant columns
            (product_id,),
        )
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    return Product(
        **_summary(row), stock=row[6], description=row[10], attributes=json.loads(row[11])
    )


def list_categories(connection: mariadb.Connection) -> list[Category]:
    cursor = connection.cursor()
    try:
        cursor.execute(
            """
            SELECT c.slug, c.name,
                   (SELECT COUNT(*) FROM products p WHERE p.category_id = c.id),
                   (SELECT GROUP_CONCAT(m.class_id ORDER BY m.class_id)
                    FROM category_classes m WHERE m.category_id = c.id)
            FROM categories c
            ORDER BY c.name
            """
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [
        Category(
            slug=slug,
            name=name,
            product_count=count,
            class_ids=[int(i) for i in classes.split(",")] if classes else [],
        )
        for slug, name, count, classes in rows
    ]


def match_products(
    connection: mariadb.Connection,
    predictions: Sequence[ScoredClass],
    *,
    limit: int,
    min_score: float,
) -> list[ProductMatch]:
    """The ``limit`` products that best fit ``predictions``, in one indexed query.

    score(product) = sum over predictions of confidence x weight(product's category, class).
    In-stock products come first among equal scores.
    """
    if not predictions or limit < 1:
        return []
    predicted = " UNION ALL ".join(
        ["SELECT CAST(? AS UNSIGNED) AS class_id, CAST(? AS DOUBLE) AS confidence"]
        * len(predictions)
    )
    sql = f"""
        SELECT {_SUMMARY_COLUMNS}, SUM(w.confidence * m.weight) AS score
        FROM ({predicted}) AS w
        JOIN category_classes m ON m.class_id = w.class_id
        JOIN products p ON p.category_id = m.category_id
        JOIN categories c ON c.id = p.category_id
        GROUP BY p.id
        HAVING score >= ?
        ORDER BY score DESC, p.stock > 0 DESC, p.id
        LIMIT ?
    """  # noqa: S608 - one fixed placeholder pair per prediction; values are bound
    args: list[Any] = []
    for prediction in predictions:
        args += [prediction.class_id, prediction.confidence]
    cursor = connection.cursor()
    try:
        cursor.execute(sql, (*args, min_score, limit))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [ProductMatch(**_summary(row), score=round(float(row[10]), 6)) for row in rows]

"""Pure parts of the catalog's SQL layer: statement splitting, short-query detection."""

from pathlib import Path

import pytest

from app.catalog.migrations import Migration, MigrationError, load_migrations
from app.catalog.queries import uses_fulltext


def test_migration_statements_split_at_line_ending_semicolons() -> None:
    sql = (
        "-- a comment; not a statement\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (\n  y INT\n);\n"
    )
    assert Migration(1, "x", sql).statements() == [
        "CREATE TABLE a (x INT)",
        "CREATE TABLE b (\n  y INT\n)",
    ]


def test_migration_files_load_in_version_order() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == sorted(m.version for m in migrations)
    assert migrations[0].version == 1


def test_a_misnamed_migration_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "create_things.sql").write_text("CREATE TABLE t (x INT);\n")
    with pytest.raises(MigrationError, match=r"NNNN_description\.sql"):
        load_migrations(tmp_path)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mug", True),
        ("tv", False),
        ("4k tv", False),
        ("espresso cup", True),
        ("鉄瓶", False),
        ("%", False),
    ],
)
def test_short_queries_bypass_the_fulltext_index(query: str, expected: bool) -> None:
    assert uses_fulltext(query) is expected

"""The catalog against the real MariaDB: migrations, the seed, matching, the pool's limits."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import anyio
import mariadb
import pytest

from app.catalog import queries
from app.catalog.database import CatalogUnavailableError, Database, connect
from app.catalog.migrations import MIGRATIONS_DIR, MigrationError, load_migrations, migrate
from app.catalog.seed import SeedCatalog, apply_seed, load_seed
from config import Settings
from contracts.results import Prediction
from tests.support.catalog import scratch_database, settings_for, table_checksums
from tests.support.imagenet import CAT_CLASSES, COFFEE_MUG, CUP, ESPRESSO
from tools.devstack import REPO_ROOT, base_env, free_port

CATALOG_TABLES = ["categories", "category_classes", "products"]


def _schema(connection: mariadb.Connection) -> dict[str, str]:
    cursor = connection.cursor()
    cursor.execute("SHOW TABLES")
    tables = sorted(str(row[0]) for row in cursor.fetchall())
    schema = {}
    for table in tables:
        cursor.execute(f"SHOW CREATE TABLE `{table}`")
        schema[table] = str(cursor.fetchone()[1])
    return schema


def test_migrations_build_the_schema_from_empty_and_a_rerun_changes_nothing() -> None:
    with scratch_database() as settings:
        connection = connect(settings)
        try:
            assert _schema(connection) == {}
            assert migrate(connection) == [m.version for m in load_migrations()]
            schema = _schema(connection)
            assert set(schema) == {*CATALOG_TABLES, "task_history", "schema_migrations"}
            assert (
                "FULLTEXT KEY `ft_products_text` (`name`,`brand`,`description`)"
                in schema["products"]
            )
            cursor = connection.cursor()
            cursor.execute("SELECT version, name, applied_at FROM schema_migrations")
            recorded = cursor.fetchall()
            assert [(v, n) for v, n, _ in recorded] == [
                (1, "create_catalog"),
                (2, "create_task_history"),
            ]

            assert migrate(connection) == []
            assert _schema(connection) == schema
            cursor.execute("SELECT version, name, applied_at FROM schema_migrations")
            assert cursor.fetchall() == recorded
        finally:
            connection.close()


def test_the_command_line_migrates_and_seeds(tmp_path: Path) -> None:
    with scratch_database() as settings:
        env = base_env("unused") | {"SNAPMATCH_DATABASE_URL": str(settings.database_url)}
        command = [sys.executable, "-m", "app.catalog", "setup"]
        first = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert first.returncode == 0, first.stderr
        assert "migrations applied: [1, 2]" in first.stdout
        assert "products_added=" in first.stdout
        again = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines() == [
            "migrations applied: none (up to date)",
            "seed catalog: up to date",
        ]


def test_a_migration_edited_after_it_was_applied_is_refused(tmp_path: Path) -> None:
    edited = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, edited)
    first = sorted(edited.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited afterwards\n")
    with scratch_database() as settings:
        connection = connect(settings)
        try:
            migrate(connection)
            with pytest.raises(MigrationError, match="was changed after it was applied"):
                migrate(connection, load_migrations(edited))
        finally:
            connection.close()


def test_the_seed_loads_completely_and_a_second_load_writes_nothing() -> None:
    seed = load_seed()
    with scratch_database() as settings:
        connection = connect(settings)
        try:
            migrate(connection)
            first = apply_seed(connection, seed)
            assert first.categories_added == len(seed.categories)
            assert first.products_added == sum(len(c.products) for c in seed.categories)
            checksums = table_checksums(connection, CATALOG_TABLES)

            second = apply_seed(connection, seed)
            assert not second.changed, second
            assert table_checksums(connection, CATALOG_TABLES) == checksums
        finally:
            connection.close()


def test_a_changed_price_in_the_seed_updates_only_that_product() -> None:
    seed = load_seed()
    category = seed.categories[0]
    product = category.products[0]
    repriced = product.model_copy(update={"price": product.price + 1})
    changed = seed.model_copy(
        update={
            "categories": [
                category.model_copy(update={"products": [repriced, *category.products[1:]]}),
                *seed.categories[1:],
            ]
        }
    )
    with scratch_database() as settings:
        connection = connect(settings)
        try:
            migrate(connection)
            apply_seed(connection, seed)
            report = apply_seed(connection, changed)
            assert (report.products_updated, report.products_added) == (1, 0)
            cursor = connection.cursor()
            cursor.execute("SELECT price FROM products WHERE sku = ?", (product.sku,))
            assert cursor.fetchone()[0] == product.price + 1
        finally:
            connection.close()


def _prediction(class_id: int, confidence: float) -> Prediction:
    return Prediction(class_id=class_id, label=str(class_id), confidence=confidence)


def test_an_espresso_matches_cups_first_then_espresso_machines(
    seeded_catalog: SeedCatalog,
) -> None:
    predictions = [_prediction(ESPRESSO, 0.9), _prediction(CUP, 0.05), _prediction(925, 0.01)]
    connection = connect(settings_for())
    try:
        matches = queries.match_products(connection, predictions, limit=20, min_score=0.05)
    finally:
        connection.close()
    slugs = [m.category.slug for m in matches]
    assert slugs[0] == "mugs-and-cups"
    assert "espresso-machines" in slugs
    assert slugs.index("espresso-machines") > slugs.index("mugs-and-cups")
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    # 0.9 x 0.8 (espresso -> cups) + 0.05 x 1.0 (cup -> cups)
    assert scores[0] == pytest.approx(0.77)


def test_predictions_the_catalog_does_not_cover_match_nothing(
    seeded_catalog: SeedCatalog,
) -> None:
    predictions = [_prediction(c, 0.19) for c in sorted(CAT_CLASSES)]
    connection = connect(settings_for())
    try:
        assert queries.match_products(connection, predictions, limit=5, min_score=0.0) == []
        # A covered class below the minimum score does not count either.
        weak = [*predictions, _prediction(COFFEE_MUG, 0.01)]
        assert queries.match_products(connection, weak, limit=5, min_score=0.05) == []
    finally:
        connection.close()


@pytest.mark.anyio
async def test_a_busy_pool_answers_unavailable_instead_of_waiting(
    seeded_catalog: SeedCatalog,
) -> None:
    database = Database(settings_for(database_pool_size=1, database_timeout_seconds=1))

    def slow(connection: mariadb.Connection) -> None:
        connection.ping()
        time.sleep(2.5)  # holds the only connection for longer than the 1 s acquire timeout

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(database.run, slow)
            await anyio.sleep(0.2)
            started = time.monotonic()
            with pytest.raises(CatalogUnavailableError, match="busy"):
                await database.run(lambda connection: connection.ping())
            waited = time.monotonic() - started
        assert waited < 2.5  # gave up after the 1 s acquire timeout, not after the slow query
        assert await database.ping()
    finally:
        database.close()


@pytest.mark.anyio
async def test_an_unreachable_database_answers_unavailable() -> None:
    url = f"mariadb://snapmatch:snapmatch@127.0.0.1:{free_port()}/nothing"
    database = Database(Settings(_env_file=None, database_url=url))
    try:
        with pytest.raises(CatalogUnavailableError, match="cannot connect"):
            await database.run(lambda connection: connection.ping())
        assert not await database.ping()
    finally:
        database.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

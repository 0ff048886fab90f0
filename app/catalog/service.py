"""The gateway's catalog: async methods over the pooled database, plus schema upkeep.

The gateway applies pending migrations when it starts, in the background and retrying while
MariaDB is down, so it serves uploads and results from the first second either way; until the
schema is in place every catalog call raises CatalogUnavailableError.
"""

import asyncio
import contextlib
from collections.abc import Sequence

import anyio.to_thread
import mariadb
import structlog

from app.catalog import queries
from app.catalog.database import UNAVAILABLE_ERRORS, CatalogUnavailableError, Database, connect
from app.catalog.migrations import MigrationError, migrate
from app.catalog.models import Category, Product, ProductMatch, ScoredClass, SearchPage
from config import Settings

logger = structlog.stdlib.get_logger(__name__)

_MIGRATE_RETRY_SECONDS = (1.0, 30.0)  # first and largest delay between attempts


class Catalog:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._database = Database(settings)
        self._schema_ready = asyncio.Event()
        self._migrator: asyncio.Task[None] | None = None

    @property
    def database(self) -> Database:
        """The pool, shared with the task history (its table is one of these migrations)."""
        return self._database

    @property
    def schema_ready(self) -> bool:
        return self._schema_ready.is_set()

    def start(self) -> None:
        """Begin applying migrations in the background (returns at once)."""
        self._migrator = asyncio.create_task(self._migrate_until_done(), name="catalog-migrate")

    async def close(self) -> None:
        if self._migrator is not None:
            self._migrator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._migrator
        await anyio.to_thread.run_sync(self._database.close)

    async def ping(self) -> str:
        """ "ok", or why the catalog cannot answer (for /ready)."""
        if not await self._database.ping():
            return "down: no connection"
        if not self.schema_ready:
            return "down: schema not migrated yet"
        return "ok"

    async def search(
        self, *, query: str, category: str | None, limit: int, offset: int
    ) -> SearchPage:
        self._require_schema()
        return await self._database.run(
            lambda c: queries.search_products(
                c, query=query, category=category, limit=limit, offset=offset
            )
        )

    async def category_exists(self, slug: str) -> bool:
        self._require_schema()
        return await self._database.run(lambda c: queries.category_exists(c, slug))

    async def product(self, product_id: int) -> Product | None:
        self._require_schema()
        return await self._database.run(lambda c: queries.get_product(c, product_id))

    async def categories(self) -> list[Category]:
        self._require_schema()
        return await self._database.run(queries.list_categories)

    async def matches(self, predictions: Sequence[ScoredClass]) -> list[ProductMatch]:
        """The configured number of products that fit ``predictions`` (possibly none)."""
        limit = self._settings.product_matches
        if limit == 0 or not predictions:
            return []
        self._require_schema()
        min_score = self._settings.product_min_score
        return await self._database.run(
            lambda c: queries.match_products(c, predictions, limit=limit, min_score=min_score)
        )

    def _require_schema(self) -> None:
        if not self.schema_ready:
            raise CatalogUnavailableError("the catalog schema has not been applied yet")

    def _migrate_once(self) -> list[int]:
        connection = connect(self._settings)
        try:
            return migrate(connection)
        finally:
            connection.close()

    async def _migrate_until_done(self) -> None:
        delay, longest = _MIGRATE_RETRY_SECONDS
        while True:
            try:
                applied = await anyio.to_thread.run_sync(self._migrate_once)
            except (*UNAVAILABLE_ERRORS, MigrationError, mariadb.Error) as exc:
                logger.warning(
                    "catalog migrations not applied; retrying", error=str(exc), retry_in_s=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            if applied:
                logger.info("catalog schema migrated", applied=applied)
            self._schema_ready.set()
            return

"""Pooled MariaDB connections used from the event loop without blocking it.

The mariadb connector is synchronous, so every query runs in a worker thread. At most
``database_pool_size`` run at once (a capacity limiter as large as the pool), so taking a
connection from the pool never finds it empty; a caller that cannot get a slot within
``database_timeout_seconds`` gets ``CatalogUnavailableError`` (a 503) instead of waiting forever.

The pool is filled lazily and topped up after connections die, so the gateway starts, and
recovers, while MariaDB is down.
"""

import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

import anyio
import anyio.to_thread
import mariadb
import structlog

from config import Settings

logger = structlog.stdlib.get_logger(__name__)

T = TypeVar("T")

# Errors that mean "the database cannot be used right now", as opposed to a bug in a query.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    mariadb.OperationalError,
    mariadb.InterfaceError,
    mariadb.PoolError,
)


class CatalogUnavailableError(Exception):
    """MariaDB is down, too slow, or every pooled connection is busy; retry later."""


def connection_args(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``mariadb.connect`` for the configured database (over TCP)."""
    url = settings.database_url
    timeout = settings.database_timeout_seconds
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 3306,
        "user": unquote(url.username or ""),
        "password": unquote(url.password or ""),
        "database": (url.path or "/").lstrip("/"),
        "connect_timeout": timeout,
        "read_timeout": timeout,
        "write_timeout": timeout,
        "autocommit": True,
    }


def connect(settings: Settings, **overrides: Any) -> mariadb.Connection:
    """One connection outside the pool (migrations, seeding, the command line)."""
    return mariadb.connect(**(connection_args(settings) | overrides))


class Database:
    """A connection pool plus the threads that use it."""

    def __init__(self, settings: Settings) -> None:
        self._size = settings.database_pool_size
        self._acquire_timeout = float(settings.database_timeout_seconds)
        # Created empty: connections are opened on first use, never in the constructor.
        self._pool = mariadb.ConnectionPool(
            pool_name=f"snapmatch-{uuid.uuid4().hex[:8]}",
            pool_size=self._size,
            pool_reset_connection=False,
            pool_validation_interval=500,
        )
        self._pool.set_config(**connection_args(settings))
        self._refill_lock = threading.Lock()
        self._limiter = anyio.CapacityLimiter(self._size)

    async def run(self, query: Callable[[mariadb.Connection], T]) -> T:
        """Run ``query(connection)`` in a thread with a pooled connection."""
        try:
            with anyio.fail_after(self._acquire_timeout):
                await self._limiter.acquire()
        except TimeoutError as exc:
            raise CatalogUnavailableError("every catalog connection is busy") from exc
        try:
            return await anyio.to_thread.run_sync(self._run_sync, query)
        finally:
            self._limiter.release()

    async def ping(self) -> bool:
        try:
            await self.run(lambda connection: connection.ping())
        except CatalogUnavailableError:
            return False
        return True

    def close(self) -> None:
        self._pool.close()

    def _run_sync(self, query: Callable[[mariadb.Connection], T]) -> T:
        try:
            connection = self._checkout()
        except UNAVAILABLE_ERRORS as exc:
            raise CatalogUnavailableError(f"cannot connect to MariaDB: {exc}") from exc
        try:
            return query(connection)
        except UNAVAILABLE_ERRORS as exc:
            raise CatalogUnavailableError(f"MariaDB query failed: {exc}") from exc
        finally:
            try:
                connection.close()  # back to the pool; a dead one is replaced or dropped there
            except mariadb.Error:
                logger.debug("dropped a broken catalog connection", exc_info=True)

    def _checkout(self) -> mariadb.Connection:
        # ConnectionPool drops a connection whose replacement fails (database down) and never
        # refills itself: top it up first. Raises mariadb.Error while the database is down.
        with self._refill_lock:
            while self._pool.connection_count < self._size:
                self._pool.add_connection()
        connection: mariadb.Connection = self._pool.get_connection()
        return connection

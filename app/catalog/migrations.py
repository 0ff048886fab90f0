"""Versioned SQL migrations, applied in order and recorded in ``schema_migrations``.

Files are ``app/catalog/migrations/NNNN_description.sql``; version NNNN is applied once. A file
changed after it was applied is refused (its SHA-256 is recorded), so every database that
reports a version has the same schema. Concurrent runners (several gateways starting at once)
serialise on a named lock. MariaDB commits DDL implicitly, so keep one change per file.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import mariadb
import structlog

logger = structlog.stdlib.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_NAME = "snapmatch.schema_migrations"
_LOCK_TIMEOUT_SECONDS = 30

_CREATE_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT UNSIGNED NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""


class MigrationError(Exception):
    """The migration files and the database disagree, or a migration failed."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        """The file's statements: split where a line ends with ';', comment lines dropped."""
        lines = [line for line in self.sql.splitlines() if not line.lstrip().startswith("--")]
        parts = re.split(r";[ \t]*$", "\n".join(lines), flags=re.MULTILINE)
        return [part.strip() for part in parts if part.strip()]


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


def applied_versions(connection: mariadb.Connection) -> dict[int, str]:
    """Version -> checksum of every migration recorded in the database."""
    cursor = connection.cursor()
    try:
        cursor.execute(_CREATE_VERSIONS_TABLE)
        cursor.execute("SELECT version, checksum FROM schema_migrations")
        return {int(version): str(checksum) for version, checksum in cursor.fetchall()}
    finally:
        cursor.close()


def migrate(connection: mariadb.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations the database lacks; return the versions applied now."""
    migrations = load_migrations() if migrations is None else migrations
    cursor = connection.cursor()
    cursor.execute("SELECT GET_LOCK(?, ?)", (_LOCK_NAME, _LOCK_TIMEOUT_SECONDS))
    (locked,) = cursor.fetchone()
    if locked != 1:
        cursor.close()
        raise MigrationError(
            f"another migration run has held the lock for {_LOCK_TIMEOUT_SECONDS} s"
        )
    try:
        done = applied_versions(connection)
        applied_now = []
        for migration in migrations:
            recorded = done.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was changed after "
                        "it was applied; add a new migration instead"
                    )
                continue
            for statement in migration.statements():
                try:
                    cursor.execute(statement)
                except mariadb.ProgrammingError as exc:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} failed: {exc}"
                    ) from exc
            cursor.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                (migration.version, migration.name, migration.checksum),
            )
            connection.commit()
            applied_now.append(migration.version)
            logger.info("migration applied", version=migration.version, name=migration.name)
        return applied_now
    finally:
        cursor.execute("SELECT RELEASE_LOCK(?)", (_LOCK_NAME,))
        cursor.fetchone()
        cursor.close()

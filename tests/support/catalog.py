"""The suite's catalog database: settings for it, scratch databases, stopping MariaDB."""

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import mariadb

from app.catalog.database import connect
from config import Settings
from tools.devstack import REPO_ROOT, TEST_DB, wait_until


def catalog_ready(base_url: str) -> bool:
    """Whether the gateway at ``base_url`` reports its catalog usable."""
    return bool(httpx.get(f"{base_url}/ready", timeout=5).json()["checks"]["mariadb"] == "ok")


def settings_for(database: str = TEST_DB, **overrides: Any) -> Settings:
    url = f"mariadb://snapmatch:snapmatch@127.0.0.1:3306/{database}"
    return Settings(_env_file=None, database_url=url, **overrides)


@contextmanager
def scratch_database() -> Iterator[Settings]:
    """A new, empty database (TEST_DB_<random>, which the app user may create), then dropped."""
    name = f"{TEST_DB}_{uuid.uuid4().hex[:8]}"
    admin = connect(settings_for(), database="")
    try:
        admin.cursor().execute(f"CREATE DATABASE `{name}`")
        yield settings_for(name)
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def table_checksums(connection: mariadb.Connection, tables: list[str]) -> dict[str, int]:
    cursor = connection.cursor()
    cursor.execute(f"CHECKSUM TABLE {', '.join(tables)}")
    return {str(name).rsplit(".", 1)[-1]: int(checksum) for name, checksum in cursor.fetchall()}


def mariadb_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 3306), timeout=1):
            return True
    except OSError:
        return False


def _as_root(command: list[str]) -> list[str]:
    return command if os.geteuid() == 0 else ["sudo", "-n", *command]


def stop_mariadb() -> None:
    """Shut the local MariaDB server down (root over the unix socket)."""
    subprocess.run(
        _as_root(["mariadb-admin", "--protocol=socket", "--user=root", "shutdown"]),
        check=True,
        capture_output=True,
        timeout=60,
    )
    wait_until(lambda: not mariadb_answers(), timeout=60, what="MariaDB to stop")


def start_mariadb() -> None:
    """Start it again the way `make test` does."""
    subprocess.run(
        [str(REPO_ROOT / "scripts" / "ensure-services.sh"), "--with-mariadb"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wait_until(mariadb_answers, timeout=60, what="MariaDB to start")

"""Command line: ``python -m app.catalog {migrate,seed,setup}`` against SNAPMATCH_DATABASE_URL."""

import argparse
import sys

from app.catalog.database import connect
from app.catalog.migrations import migrate
from app.catalog.seed import apply_seed
from config import get_settings
from config.structured_logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.catalog", description=__doc__)
    parser.add_argument(
        "command",
        choices=["migrate", "seed", "setup"],
        help="migrate: apply pending migrations; seed: load the seed catalog; setup: both",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, process="catalog")
    connection = connect(settings)
    try:
        if args.command in ("migrate", "setup"):
            applied = migrate(connection)
            print(f"migrations applied: {applied or 'none (up to date)'}")
        if args.command in ("seed", "setup"):
            report = apply_seed(connection)
            print(f"seed catalog: {report}" if report.changed else "seed catalog: up to date")
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

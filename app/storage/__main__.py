"""Command line: ``python -m app.storage {setup,purge}`` against the configured photo bucket.

- setup: create the bucket (private) with its retention lifecycle rule where the store takes
  one; the gateway does the same at start, this is for deployments that create it beforehand.
- purge: delete photos older than ``SNAPMATCH_IMAGE_RETENTION_DAYS``; run it daily (cron, a
  Kubernetes CronJob) on stores without lifecycle rules, such as the local s3rver. Harmless
  where a lifecycle rule exists.
"""

import argparse
import sys
from datetime import UTC, datetime, timedelta

from config import get_settings
from config.object_store import ObjectStore, ObjectStoreUnavailableError
from config.structured_logging import configure_logging
from contracts.object_keys import PHOTOS_PREFIX


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.storage", description=__doc__)
    parser.add_argument("command", choices=["setup", "purge"])
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, process="storage")
    store = ObjectStore(settings)
    try:
        if args.command == "setup":
            lifecycle = store.ensure_bucket(retention_days=settings.image_retention_days)
            rule = "lifecycle rule set" if lifecycle else "no lifecycle rules here: run `purge`"
            print(f"bucket {store.bucket}: ready ({rule})")
        else:
            cutoff = datetime.now(UTC) - timedelta(days=settings.image_retention_days)
            deleted = store.purge(PHOTOS_PREFIX, written_before=cutoff)
            print(f"bucket {store.bucket}: {deleted} objects written before {cutoff:%F %R} deleted")
    except ObjectStoreUnavailableError as exc:
        print(f"object store unavailable: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Container healthcheck: healthy while the worker's heartbeat file is fresh.

The consumer touches the file every few seconds while it is connected to RabbitMQ.
"""

import sys
import time

from config import get_settings

STALE_AFTER_SECONDS = 30.0


def main() -> int:
    path = get_settings().worker_heartbeat_file
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        print(f"unhealthy: no heartbeat file at {path}", file=sys.stderr)
        return 1
    if age > STALE_AFTER_SECONDS:
        print(f"unhealthy: last heartbeat {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

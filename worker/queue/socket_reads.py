"""Bigger socket reads for pika's connection thread.

pika reads its socket 4 KiB at a time and appends every read to its frame buffer (a copy of
all that is buffered so far) before trying to parse a frame: a 300 KB photo costs some 75 reads,
as many parse attempts and quadratic copying on the connection's thread, all of it competing
with the inference thread for the GIL. Reading up to 256 KiB at once makes that a handful of
reads. A read still returns whatever has arrived, so nothing waits for more data.
"""

import structlog
from pika.adapters.utils import io_services_utils

logger = structlog.stdlib.get_logger(__name__)

RECV_BYTES = 256 * 1024


def read_larger_chunks() -> None:
    """Raise pika's per-read size (every connection made afterwards, TLS or not)."""
    transport = io_services_utils._AsyncTransportBase  # no public knob exists
    if not isinstance(getattr(transport, "_MAX_RECV_BYTES", None), int):
        logger.warning("this pika has no read size to raise; reading its default chunks")
        return
    transport._MAX_RECV_BYTES = max(transport._MAX_RECV_BYTES, RECV_BYTES)

"""Which RabbitMQ node to connect to next, for the gateway and the worker alike.

A client talks to one node of a cluster at a time (the quorum queues are replicated across all
of them, so any node serves). It starts with the first configured node; when a connection is
refused or lost, it moves on to the next one round the list at once, so a node that just died is
tried last; only when a whole round has failed does it wait before trying again.
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

AMQP_DEFAULT_PORT = 5672


def node_name(url: str) -> str:
    """``host:port`` of an AMQP URL: what logs may say about a node (never the password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or AMQP_DEFAULT_PORT}"


class BrokerAddresses:
    """A cursor over the configured nodes. Not thread-safe: each client owns one."""

    def __init__(self, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("at least one RabbitMQ URL is needed")
        self._urls = tuple(urls)
        self._cursor = 0
        self._failures = (
            0  # connection attempts failed (or connections lost) since the last success
        )

    @property
    def current(self) -> str:
        """The node to try now."""
        return self._urls[self._cursor]

    @property
    def current_node(self) -> str:
        return node_name(self.current)

    def connected(self) -> None:
        """The current node answered: the failures so far are forgiven."""
        self._failures = 0

    def failed(self) -> int:
        """The current node refused a connection or lost one: move on to the next.

        Returns how many whole rounds have failed since the last connection when this failure
        completes a round (time to wait before the next), else 0 (try the next node at once).
        """
        self._failures += 1
        self._cursor = (self._cursor + 1) % len(self._urls)
        rounds, rest = divmod(self._failures, len(self._urls))
        return rounds if rest == 0 else 0

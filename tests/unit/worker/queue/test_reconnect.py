"""The worker's reconnect loop over the nodes of a cluster, with a scripted consumer."""

import threading
from collections.abc import Callable

import pika.exceptions
import pytest

from config.brokers import BrokerAddresses
from worker.queue.reconnect import QueueMismatchError, ReconnectingConsumer

A, B, C = (f"amqp://u:p@rabbit-{n}:5672/v" for n in "abc")


class RecordingEvent(threading.Event):
    """Records the loop's waits instead of sleeping through them."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


class ScriptedConsumer:
    """Each ``consume`` call plays the next scripted step: the URL it must be given and what
    happens there: ``refused`` (no connection), ``lost`` (connected, then lost), ``stopped``
    (connected until ``stop()``), or an exception to raise."""

    def __init__(self, script: list[tuple[str, str | Exception]]) -> None:
        self.stopping = RecordingEvent()
        self.script = script
        self.calls: list[str] = []
        self.closed = False

    def consume(self, url: str, *, on_connected: Callable[[], None]) -> None:
        self.calls.append(url)
        expected, outcome = self.script.pop(0)
        assert url == expected, f"tried {url}, expected {expected}"
        if isinstance(outcome, Exception):
            raise outcome
        if outcome == "refused":
            raise pika.exceptions.AMQPConnectionError("refused")
        on_connected()
        if outcome == "lost":
            raise pika.exceptions.StreamLostError("connection lost")
        self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.closed = True


def _run(consumer: ScriptedConsumer, urls: list[str]) -> None:
    ReconnectingConsumer(consumer, queue="tasks", addresses=BrokerAddresses(urls)).run()


def test_a_refused_node_is_skipped_at_once_and_the_wait_comes_after_a_whole_round() -> None:
    consumer = ScriptedConsumer(
        [(A, "refused"), (B, "refused"), (C, "refused"), (A, "refused"), (B, "stopped")]
    )
    _run(consumer, [A, B, C])
    assert consumer.stopping.waits == [1.0]  # one wait, after A, B and C all refused
    assert consumer.closed


def test_a_lost_connection_moves_on_to_the_next_node_without_waiting() -> None:
    consumer = ScriptedConsumer([(A, "lost"), (B, "lost"), (C, "stopped")])
    _run(consumer, [A, B, C])
    assert consumer.calls == [A, B, C]
    assert consumer.stopping.waits == []


def test_with_one_broker_the_waits_grow_as_before() -> None:
    consumer = ScriptedConsumer([(A, "refused"), (A, "refused"), (A, "refused"), (A, "stopped")])
    _run(consumer, [A])
    assert consumer.stopping.waits == [1.0, 2.0, 4.0]


def test_a_queue_with_other_arguments_stops_the_worker() -> None:
    mismatch = pika.exceptions.ChannelClosedByBroker(406, "PRECONDITION_FAILED")
    consumer = ScriptedConsumer([(A, mismatch), (B, "stopped")])
    with pytest.raises(QueueMismatchError, match="migrate-queue"):
        _run(consumer, [A, B])
    assert consumer.closed


def test_a_connection_that_was_lost_after_a_refusal_starts_a_new_count() -> None:
    # A refused, B lost after connecting: no wait (B's connection forgave A's refusal).
    consumer = ScriptedConsumer([(A, "refused"), (B, "lost"), (C, "refused"), (A, "stopped")])
    _run(consumer, [A, B, C])
    assert consumer.stopping.waits == []
    assert consumer.calls == [A, B, C, A]

"""The order in which the gateway and the workers try the nodes of a RabbitMQ cluster."""

import pytest

from config.brokers import BrokerAddresses, node_name

A, B, C = (f"amqp://user:secret@rabbit-{n}:5672/snapmatch" for n in "abc")


def test_a_node_is_named_by_host_and_port_never_by_its_password() -> None:
    assert node_name(A) == "rabbit-a:5672"
    assert node_name("amqp://user:secret@rabbit-b/snapmatch") == "rabbit-b:5672"
    assert "secret" not in node_name(A)


def test_the_first_node_is_tried_first() -> None:
    assert BrokerAddresses([A, B, C]).current == A


def test_a_failed_node_moves_on_to_the_next_at_once_until_a_whole_round_failed() -> None:
    addresses = BrokerAddresses([A, B, C])
    assert addresses.failed() == 0
    assert addresses.current == B
    assert addresses.failed() == 0
    assert addresses.current == C
    assert addresses.failed() == 1  # every node refused: time to wait
    assert addresses.current == A
    assert [addresses.failed() for _ in range(3)] == [0, 0, 2]  # a longer wait after two rounds


def test_after_a_connection_a_lost_node_is_tried_last() -> None:
    addresses = BrokerAddresses([A, B, C])
    addresses.failed()  # A refused
    addresses.connected()  # B answered
    assert addresses.current == B
    assert addresses.failed() == 0  # B lost: on to C at once, A (which refused) after it
    assert addresses.current == C
    assert addresses.failed() == 0
    assert addresses.current == A


def test_a_connection_forgives_the_failures_before_it() -> None:
    addresses = BrokerAddresses([A, B])
    assert [addresses.failed(), addresses.failed(), addresses.failed()] == [0, 1, 0]
    addresses.connected()
    assert [addresses.failed(), addresses.failed()] == [0, 1]


def test_with_a_single_broker_every_failure_is_a_whole_round() -> None:
    addresses = BrokerAddresses([A])
    assert [addresses.failed() for _ in range(3)] == [1, 2, 3]
    assert addresses.current == A


def test_at_least_one_url_is_needed() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BrokerAddresses([])

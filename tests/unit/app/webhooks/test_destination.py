"""SSRF: which resolved addresses a webhook may go to."""

import pytest

from app.webhooks.destination import refusal


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("100.64.0.1", "private"),  # carrier-grade NAT: not public
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata service
        ("fe80::1%eth0", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("0.0.0.0", "not a unicast"),
        ("224.0.0.1", "not a unicast"),
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    refused = refusal([address], allow_private=False)
    assert refused is not None and reason in refused


def test_one_internal_address_among_public_ones_is_enough_to_refuse() -> None:
    assert refusal(["93.184.216.34", "10.0.0.5"], allow_private=False) is not None


def test_public_addresses_are_allowed() -> None:
    assert (
        refusal(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"], allow_private=False)
        is None
    )


def test_the_explicit_setting_allows_private_but_never_unspecified_addresses() -> None:
    assert refusal(["127.0.0.1", "10.0.0.5", "169.254.1.1"], allow_private=True) is None
    assert refusal(["0.0.0.0"], allow_private=True) is not None
    assert refusal([], allow_private=True) is not None

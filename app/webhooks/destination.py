"""Where a webhook may go: never, unless explicitly allowed, to this machine or its network.

A URL the operator configures can still point (by name, or by a DNS answer that changes later)
at loopback, a private range or a link-local address such as the cloud metadata service: a
server-side request forgery. Every delivery resolves the host again and refuses it when any
address it resolves to is not a public unicast address. Redirects are never followed (the
client is built with ``follow_redirects=False``), so a 3xx cannot lead there either.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable


class RefusedDestinationError(Exception):
    """The webhook URL resolves to an address deliveries may not go to."""


def refusal(addresses: Iterable[str], *, allow_private: bool) -> str | None:
    """Why these resolved addresses may not receive a webhook, or None when they may."""
    resolved = [ipaddress.ip_address(address.split("%", 1)[0]) for address in addresses]
    if not resolved:
        return "the host resolves to no address"
    for address in resolved:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_unspecified or address.is_multicast:
            return f"{address} is not a unicast address"
        if allow_private:
            continue
        if address.is_loopback:
            return f"{address} is a loopback address"
        if address.is_link_local:
            return f"{address} is a link-local address"
        if address.is_private or not address.is_global:
            return f"{address} is a private or reserved address"
    return None


async def check_destination(host: str, port: int, *, allow_private: bool) -> None:
    """Raise RefusedDestinationError unless every address of ``host`` may be called."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedDestinationError(f"cannot resolve {host}: {exc}") from exc
    reason = refusal((str(info[4][0]) for info in infos), allow_private=allow_private)
    if reason is not None:
        raise RefusedDestinationError(
            f"{host}: {reason}; set SNAPMATCH_WEBHOOK_ALLOW_PRIVATE_DESTINATIONS=true to allow it"
        )

"""Addresses Facteur calls because a user gave them (webhooks, push services).

A platform that POSTs to user-given URLs must never be turned against itself or its
cloud: no loopback, no link-local (169.254.169.254 is the metadata service), no
multicast, reserved or unspecified address. Checking the URL text is not enough:

- an IPv4 address has legacy spellings that resolvers accept (`127.1`, `2130706433`,
  `0x7f.1`, `0177.0.0.1`) and `ipaddress` does not; `literal_address` reads them as the
  C library does;
- a host name may resolve to such an address, now or later (DNS rebinding): every send
  resolves it again first (`refusal_at_send`).

Private networks (10/8, 192.168/16…) stay allowed: on-premise ERPs live there.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TIMEOUT = 5.0  # seconds; a resolver that hangs is reported like an unreachable host


def forbidden(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:127.0.0.1 reaches 127.0.0.1
        address = mapped
    return (address.is_loopback or address.is_link_local or address.is_unspecified
            or address.is_multicast or address.is_reserved)


def literal_address(host: str) -> Address | None:
    """The address a host written as a number designates, in any spelling the resolver
    accepts; None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or any(c not in "0123456789abcdefxABCDEFX." for c in host):
        return None  # a name (letters beyond hexadecimal): the resolver will look it up
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def literal_is_forbidden(host: str) -> bool:
    address = literal_address(host)
    return address is not None and forbidden(address)


async def refusal_at_send(url: str) -> str | None:
    """Why this URL must not be called now (French), or None. A name that does not
    resolve is not refused here: the HTTP client reports it, and the send is retried."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if literal_is_forbidden(host):
        return f"Envoi refusé : {host} désigne une adresse interne."
    if literal_address(host) is not None:
        return None
    key = (host, parts.port or 443)
    known = _recent.get(key)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, key[1], type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
    except (OSError, asyncio.TimeoutError, UnicodeError):
        return None
    refusal = None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if forbidden(address):
            refusal = f"Envoi refusé : {host} désigne maintenant une adresse interne ({address})."
            break
    if len(_recent) > RECENT_MAX:
        _recent.clear()
    _recent[key] = (time.monotonic() + RECENT_SECONDS, refusal)
    return refusal


# A push burst sends to the same few services: one lookup per host and half-minute, not one
# per notification. A name pointed inside is caught within that half-minute.
RECENT_SECONDS = 30.0
RECENT_MAX = 10_000
_recent: dict[tuple[str, int], tuple[float, str | None]] = {}

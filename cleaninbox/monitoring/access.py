"""Who may read the metrics: clients on allowed networks (loopback by default) or callers
presenting the bearer token. The figures reveal mail volumes, so the default is closed.

Behind a reverse proxy every request comes from the proxy's address: do not add that
address to the allowed networks; give Prometheus the token instead.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def allowed(
    remote_addr: str | None,
    authorization: str | None,
    networks: Sequence[str],
    token: str,
) -> bool:
    """True when the caller is on an allowed network or sends ``Bearer <token>``."""
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    try:
        address = ipaddress.ip_address((remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in net for net in parse_networks(tuple(networks)))

"""Whether a host name means this machine: where plain http is allowed (a school
server behind a reverse proxy on the same machine, a device's server in tests)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

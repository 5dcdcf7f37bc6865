"""Who may speak FastAGI to the service: Asterisk alone (#11).

Any process that can reach the port could otherwise act as Asterisk: set a referral for anyone
through a forged `feature` request, end a call with a forged `hangup`. A request is admitted
only from an allowed address (`asterisk.agi.allow`) and only with the secret the service and
Asterisk share: a random token the service keeps in its store and writes into AstDB over AMI
(`routing/agi/token`), which the dialplan sends as the first argument of every request.
Pure: the server asks, this decides.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSAL_LOG_INTERVAL_S = 60.0  # one agi.refused line per source and reason per minute
_MAX_REMEMBERED = 1024  # sources whose last refusal is remembered (a scan cannot grow it without end)


class Refusal(StrEnum):
    ADDRESS = "address"  # not an allowed address
    SECRET = "secret"  # no secret, or the wrong one


@dataclass(frozen=True)
class Admission:
    allow: tuple[Network, ...]
    token: str | None  # None: no secret is asked (a server tested on its own)

    @classmethod
    def of(cls, allow: Iterable[str], token: str | None) -> Admission:
        return cls(tuple(ipaddress.ip_network(a, strict=False) for a in allow), token)

    def address_allowed(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket
        return any(address in network for network in self.allow)

    def secret_matches(self, args: tuple[str, ...]) -> bool:
        if self.token is None:
            return True
        return bool(args) and hmac.compare_digest(args[0].encode(), self.token.encode())


class RefusalLog:
    """When to log a refusal: the first from a source and reason, then once a minute with how
    many were refused in between. `now` is the caller's monotonic clock."""

    def __init__(self, interval_s: float = REFUSAL_LOG_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._last: dict[tuple[str, Refusal], tuple[float, int]] = {}

    def should_log(self, host: str, reason: Refusal, now: float) -> int | None:
        """None: stay quiet; else log now, with this many refused since the last line."""
        key = (host, reason)
        last = self._last.get(key)
        if last is not None and now - last[0] < self._interval_s:
            self._last[key] = (last[0], last[1] + 1)
            return None
        if len(self._last) >= _MAX_REMEMBERED:
            self._last.clear()
        self._last[key] = (now, 0)
        return last[1] if last is not None else 0

"""Rate limits that an attacker cannot turn against others (docs/signalling.md, docs/operations.md).

Every limit keys on the real client address: behind ``BEHIND_PROXY`` the address the trusted
proxies put into X-Forwarded-For, never the proxy's own; IPv6 addresses count per /56 prefix (one
household or small network), IPv4 per address. Counters live in the shared cache (Redis when
REDIS_URL is set, so they hold across server processes; per process otherwise).

Two kinds:
- ``allow``: a plain budget per address and window (cheap, for actions that are not guesses).
- ``Backoff``: counts *failures* (a wrong access code, password or TOTP code) per key; after
  ``attempts`` failures in ``period`` the key is blocked for ``period``, and each further block of
  the same key within a day doubles, up to ``max_block``. A correct attempt does not count.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

if TYPE_CHECKING:
    from asgiref.typing import WWWScope
    from django.http import HttpRequest

IPV6_PREFIX = 56
DAY = 24 * 3600


def client_address_from(forwarded_for: str, remote: str) -> str:
    """The client's address: behind trusted proxies the entry the first of them appended."""
    if settings.BEHIND_PROXY and forwarded_for:
        entries = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if entries:
            # Each trusted proxy appends the address it received the request from; what the client
            # itself sent (left of those) is not trusted.
            candidate = entries[-min(settings.PROXY_COUNT, len(entries))]
            try:
                return str(ipaddress.ip_address(candidate.strip("[]")))
            except ValueError:
                pass
    return remote or ""


def client_address(request: HttpRequest) -> str:
    return client_address_from(request.headers.get("X-Forwarded-For", ""), request.META.get("REMOTE_ADDR", ""))


def scope_client_address(scope: WWWScope) -> str:
    """The same for an ASGI scope (websockets, the access log)."""
    forwarded = ""
    for name, value in scope.get("headers") or ():
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    client = scope.get("client") or ("",)
    return client_address_from(forwarded, client[0] or "")


def rate_key(address: str) -> str:
    """What one limit counts: an IPv4 address, or the /56 network of an IPv6 address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address) + f"/{IPV6_PREFIX}"
    return str(parsed)


def request_key(request: HttpRequest) -> str:
    return rate_key(client_address(request))


def hit(name: str, key: str, limit: int, period_seconds: int) -> bool:
    """Counts one attempt; False once more than ``limit`` happened in the current window."""
    return count(name, key, period_seconds) <= limit


def count(name: str, key: str, period_seconds: int, amount: int = 1) -> int:
    """Adds ``amount`` to the current window's counter and returns it."""
    window = int(time.time() // period_seconds)
    cache_key = f"rl:{name}:{key}:{period_seconds}:{window}"
    if cache.add(cache_key, amount, timeout=period_seconds + 5):
        return amount
    try:
        return cache.incr(cache_key, amount)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, amount, timeout=period_seconds + 5)
        return amount


def current(name: str, key: str, period_seconds: int, *, windows: int = 1) -> int:
    """The sum of the last ``windows`` windows' counters, without counting."""
    window = int(time.time() // period_seconds)
    keys = [f"rl:{name}:{key}:{period_seconds}:{window - i}" for i in range(windows)]
    counted: int = sum(v or 0 for v in cache.get_many(keys).values())  # the cache holds what count() put there
    return counted


def allow(request: HttpRequest, name: str, *, per_address: tuple[int, int]) -> bool:
    """One attempt of ``name`` from this request's client."""
    return hit(name, request_key(request), *per_address)


@dataclass(frozen=True)
class Backoff:
    """Failures per key, with a block that doubles on every repeat within a day."""

    name: str
    attempts: int
    period: int  # seconds; also the first block's length
    max_block: int = DAY

    def _keys(self, key: str) -> tuple[str, str]:
        return f"bo:{self.name}:{key}:until", f"bo:{self.name}:{key}:strikes"

    def blocked_for(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: now)."""
        until = cache.get(self._keys(key)[0])
        return max(0, int(until - time.time()) + 1) if until else 0

    def failed(self, key: str, amount: int = 1) -> int:
        """Counts a failure (or ``amount`` of something, e.g. bytes); returns the seconds of a block
        it started (0 if none)."""
        if count(f"bo:{self.name}", key, self.period, amount) < self.attempts:
            return 0
        until_key, strikes_key = self._keys(key)
        strikes: int = cache.get(strikes_key) or 0
        seconds: int = min(self.period * 2**strikes, self.max_block)  # a power of an int variable is typed Any
        cache.set(until_key, time.time() + seconds, timeout=seconds + 5)
        cache.set(strikes_key, strikes + 1, timeout=DAY + seconds)
        # A new window starts after the block: the next failure does not block again at once.
        cache.delete(f"rl:bo:{self.name}:{key}:{self.period}:{int(time.time() // self.period)}")
        return seconds

    def reset(self, key: str) -> None:
        cache.delete_many(list(self._keys(key)))


def wait_text(seconds: int) -> str:
    """ "in 2 Minuten", "in 1 Stunde" for messages."""
    if seconds < 90:
        return "in einer Minute"
    if seconds < 90 * 60:
        return f"in {round(seconds / 60)} Minuten"
    hours = round(seconds / 3600)
    return "in einer Stunde" if hours == 1 else f"in {hours} Stunden"

"""Fixed-window rate limits on the shared cache (Redis when REDIS_URL is set, so they hold across
server processes; per process otherwise)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    if settings.BEHIND_PROXY:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            # The right-most entry is the one our own proxy added.
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def hit(name: str, key: str, limit: int, period_seconds: int) -> bool:
    """Counts one attempt; False once more than ``limit`` happened in the current window."""
    window = int(time.time() // period_seconds)
    cache_key = f"rl:{name}:{key}:{period_seconds}:{window}"
    if cache.add(cache_key, 1, timeout=period_seconds + 5):
        return limit >= 1
    try:
        return cache.incr(cache_key) <= limit
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=period_seconds + 5)
        return True


def allow(request, name: str, *, per_address: tuple[int, int], overall: tuple[int, int] | None = None) -> bool:
    """One attempt of ``name`` from this request's address, and across all addresses if given."""
    ok = hit(name, client_address(request), *per_address)
    if overall is not None:
        ok = hit(name, "*", *overall) and ok
    return ok

"""A proof of work the patient's browser solves when access codes are being guessed at scale.

The global access-code limit must slow a guessing attack without refusing a correct code (issue
11): while wrong codes arrive faster than ``ACCESS_CODE_LIMIT_GLOBAL`` a minute, every attempt must
bring a solved challenge. A challenge is signed by the server (so it cannot be forged), expires
after five minutes and counts once. Solving it means finding a nonce such that
SHA-256(challenge ":" nonce) starts with ``bits`` zero bits: on average 2^bits hashes, well under
a second in a phone's browser at the base difficulty, and the difficulty rises by two bits each
time the failure rate doubles, so a guesser pays more for every guess the harder he pushes, while
a patient with the right code always gets in (docs/signalling.md has the arithmetic).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from typing import TypedDict

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from sprechzimmer import ratelimit

SALT = "sprechzimmer.proof-of-work"
MAX_AGE = 300
MAX_BITS = 24
FAILURES = "access-code-failures"


def count_failure() -> None:
    ratelimit.count(FAILURES, "*", 60)


def pressure() -> float:
    """Wrong codes of the busier of this and the last minute, relative to the global limit."""
    now = ratelimit.current(FAILURES, "*", 60)
    before = ratelimit.current(FAILURES, "*", 60, windows=2) - now
    limit: int = settings.ACCESS_CODE_LIMIT_GLOBAL
    return max(now, before) / limit


def required_bits() -> int:
    """0 when no proof is needed; else the difficulty for a new challenge."""
    ratio = pressure()
    if ratio <= 1:
        return 0
    base: int = settings.ACCESS_CODE_POW_BITS
    return min(MAX_BITS, base + 2 * math.ceil(math.log2(ratio)))


class Challenge(TypedDict):
    """What the browser gets to solve (JSON)."""

    challenge: str
    bits: int


def challenge(bits: int) -> Challenge:
    return {"challenge": signing.dumps({"r": secrets.token_urlsafe(12), "b": bits}, salt=SALT), "bits": bits}


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def verify(proof: object) -> bool:
    """True for a fresh, unused challenge of ours with a nonce that meets its difficulty."""
    if not isinstance(proof, dict):
        return False
    text, nonce = proof.get("challenge"), proof.get("nonce")
    if not isinstance(text, str) or not isinstance(nonce, str) or len(text) > 200 or not 0 < len(nonce) <= 20:
        return False
    try:
        data = signing.loads(text, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    bits = data.get("b") if isinstance(data, dict) else None
    if not isinstance(bits, int) or bits < settings.ACCESS_CODE_POW_BITS:
        return False
    if leading_zero_bits(hashlib.sha256(f"{text}:{nonce}".encode()).digest()) < bits:
        return False
    # Each challenge counts once.
    return cache.add(f"pow:{hashlib.sha256(text.encode()).hexdigest()}", 1, timeout=MAX_AGE + 10)


def solve(text: str, bits: int) -> str:
    """What the browser does (static/sprechzimmer/js/lib/proofofwork.js); for tests and benchmarks."""
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{text}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)

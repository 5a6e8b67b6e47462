"""Rules of the video consultation that need no database: access codes and their validity.

An access code (Zugangscode) is 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L,
2/Z, 5/S, 8/B, G/6), written in two groups of five so it can be typed from paper. 23 symbols give
log2(23) × 10 ≈ 45.2 bits. The server keeps only an HMAC of the code (docs/signalling.md).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, time, timedelta

from sprechzimmer.core.timezones import BERLIN

CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
CODE_LENGTH = 10
CODE_BITS = CODE_LENGTH * math.log2(len(CODE_ALPHABET))
EARLY_ENTRY = timedelta(minutes=30)
#: A new or moved appointment may start this long ago (booked while the consultation begins) …
BOOKING_GRACE = timedelta(minutes=30)
#: … and at most this far ahead; anything later is a typing slip (2099 for 2026), not a booking.
BOOKING_HORIZON = timedelta(days=731)

# Of each look-alike pair at most one member is in the alphabet; a typed G can only mean 6.
_LOOKALIKES = str.maketrans({"G": "6"})


def new_access_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(text: str) -> str | None:
    """The code as stored, from what a patient typed (case, spaces and dashes ignored); None if it
    cannot be a code at all."""
    clean = "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_LOOKALIKES)
    if len(clean) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in clean):
        return None
    return clean


def code_problem(text: str) -> str:
    """Why what a patient typed cannot be a code (German), for ``normalise_code`` returning None:
    the wrong number of characters, or characters no code has (ABCDE-FGHIJ has ten characters, so
    "besteht aus 10 Zeichen" did not help)."""
    clean = "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_LOOKALIKES)
    foreign = sorted({ch for ch in clean if ch not in CODE_ALPHABET})
    if foreign and len(foreign) <= 6 and all(ch.isascii() for ch in foreign):
        letters = ", ".join(foreign)
        return (
            f"Zugangscodes enthalten diese Zeichen nicht: {letters}. Ein Code besteht aus 10 Zeichen aus den "
            f"Buchstaben {' '.join(ch for ch in CODE_ALPHABET if ch.isalpha())} und den Ziffern "
            f"{' '.join(ch for ch in CODE_ALPHABET if ch.isdigit())}, z. B. ACDEF-34679. Bitte prüfen Sie Ihre Eingabe."
        )
    if not foreign and len(clean) != CODE_LENGTH:
        return (
            f"Der Zugangscode hat 10 Zeichen, z. B. ACDEF-34679; Sie haben {len(clean)} eingegeben. "
            "Bitte prüfen Sie Ihre Eingabe."
        )
    return "Der Zugangscode besteht aus 10 Zeichen, z. B. ACDEF-34679. Bitte prüfen Sie Ihre Eingabe."


def code_digest(code: str, secret: str) -> str:
    """HMAC-SHA256 under the server secret: a stolen database alone does not allow an offline search
    of the 2^45 codes."""
    return hmac.new(secret.encode(), f"access-code:{code}".encode(), hashlib.sha256).hexdigest()


def code_window(start: datetime) -> tuple[datetime, datetime]:
    """A code opens 30 minutes before the appointment and closes at the end of that day (Berlin)."""
    local_day = start.astimezone(BERLIN).date()
    end_of_day = datetime.combine(local_day + timedelta(days=1), time(0, 0), tzinfo=BERLIN)
    return start - EARLY_ENTRY, end_of_day


def booking_problem(start: datetime, now: datetime) -> str | None:
    """Why an appointment cannot start then (German), or None. Past appointments stay as they are;
    this rule is for a start that is being set."""
    if start < now - BOOKING_GRACE:
        return (
            "Dieser Zeitpunkt liegt in der Vergangenheit. Termine lassen sich höchstens 30 Minuten "
            "rückwirkend eintragen."
        )
    if start > now + BOOKING_HORIZON:
        return "Termine lassen sich höchstens zwei Jahre im Voraus eintragen. Bitte prüfen Sie das Datum."
    return None


def guesses_per_address_per_day(attempts: int = 10, first_block_minutes: int = 1, max_block_minutes: int = 1440) -> int:
    """Wrong codes one address can try in its first day under the backoff (docs/signalling.md):
    ``attempts`` guesses, then a block that doubles each time, capped at a day."""
    minutes, block, guesses = 0, first_block_minutes, 0
    while minutes < 24 * 60:
        guesses += attempts
        minutes += block
        block = min(block * 2, max_block_minutes)
    return guesses


def expected_years_to_guess(valid_codes: int, addresses: int, per_address_per_day: int | None = None) -> float:
    """Expected time for an attacker with ``addresses`` client addresses to hit any valid code."""
    per_day = per_address_per_day if per_address_per_day is not None else guesses_per_address_per_day()
    space: int = len(CODE_ALPHABET) ** CODE_LENGTH  # a power of an int variable is typed Any
    days = space / max(valid_codes, 1) / (per_day * max(addresses, 1))
    return days / 365.25

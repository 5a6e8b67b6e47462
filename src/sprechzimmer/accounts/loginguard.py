"""Failed logins (password or second factor) are limited so that nobody can lock others out.

A hard lock per account ("5 wrong passwords lock the doctor out for 5 minutes") lets anyone who
knows a doctor's e-mail address keep them out with one request a minute. Instead, failures count:
- per account *and* client address: 5 in 5 minutes block that pair, with a block that doubles on
  every repeat within a day (the guesser's own address, never the doctor's);
- per client address across accounts: 20 in 10 minutes, with the same backoff (password spraying);
- per account across addresses: 50 in an hour mean a distributed attack on that account; then only
  the account's known devices (the ``sz_device`` cookie of an approved device) may still try, so the
  doctor at their usual computer logs in as always while a botnet gets nowhere.
The password itself costs an attacker 600 000 PBKDF2 iterations per guess before any attempt
(docs/e2ee.md); the second factor is checked only after a correct password.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from sprechzimmer.accounts import devices
from sprechzimmer.accounts.models import Device, User, token_digest
from sprechzimmer.ratelimit import Backoff, request_key, wait_text

PAIR = Backoff("login-pair", attempts=5, period=300)
ADDRESS = Backoff("login-address", attempts=20, period=600)
ACCOUNT = Backoff("login-account", attempts=50, period=3600)


def _known_device(request, user: User | None) -> bool:
    token = request.COOKIES.get(devices.COOKIE_NAME)
    if user is None or not devices.valid_token(token):
        return False
    return Device.objects.filter(user=user, token_hash=token_digest(token), status=Device.Status.APPROVED).exists()


def refusal(request, account: str, user: User | None) -> str | None:
    """The German reason to refuse this attempt now, or None to let it be checked."""
    address = request_key(request)
    wait = max(ADDRESS.blocked_for(address), PAIR.blocked_for(f"{account}|{address}"))
    if wait:
        return f"Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es {wait_text(wait)} erneut."
    wait = ACCOUNT.blocked_for(account)
    if wait and not _known_device(request, user):
        return (
            "Für dieses Konto gab es sehr viele fehlgeschlagene Anmeldeversuche. Von einem neuen Gerät aus "
            f"ist die Anmeldung {wait_text(wait)} wieder möglich; auf Ihren bekannten Geräten können Sie sich "
            "weiter anmelden."
        )
    return None


def failed(request, account: str) -> None:
    address = request_key(request)
    ADDRESS.failed(address)
    PAIR.failed(f"{account}|{address}")
    ACCOUNT.failed(account)


def succeeded(request, account: str) -> None:
    PAIR.reset(f"{account}|{request_key(request)}")


def password_account(email: str) -> str:
    return f"password:{(email or '').strip().lower()}"


def second_factor_account(user: User) -> str:
    return f"mfa:{user.pk}"


def forget(user: User) -> None:
    """Drops the failure counters and blocks kept for this account (the account is deleted)."""
    window = int(time.time() // ACCOUNT.period)
    for account in (password_account(user.email), second_factor_account(user)):
        ACCOUNT.reset(account)
        cache.delete_many([f"rl:bo:{ACCOUNT.name}:{account}:{ACCOUNT.period}:{w}" for w in (window, window - 1)])

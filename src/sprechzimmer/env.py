"""Strict readers for settings that come from environment variables.

A value that cannot be parsed stops start-up with a message naming the variable, instead of
silently falling back to a default (the healthchecks habit). Every reader also accepts a
``NAME_FILE`` variant that points at a file holding the value (Docker/systemd secrets).
"""

from __future__ import annotations

import os
from typing import NotRequired, TypedDict
from urllib.parse import unquote, urlparse


class ImproperlyConfiguredEnv(SystemExit):
    """Raised for a bad environment value; exits with a one-line German message, no traceback."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"Konfigurationsfehler: {name}: {reason}")


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            with open(file_name, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ImproperlyConfiguredEnv(
                f"{name}_FILE", f"die Datei {file_name} ist nicht lesbar ({exc.strerror})"
            ) from None
    return os.environ.get(name)


def envstr(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def envbool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfiguredEnv(name, f"erwartet true oder false, nicht {value!r}")


def envint(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfiguredEnv(name, f"erwartet eine ganze Zahl, nicht {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(name, f"muss mindestens {minimum} sein, nicht {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfiguredEnv(name, f"darf höchstens {maximum} sein, nicht {number}")
    return number


def envlist(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None or value == "":
        return default
    if value not in choices:
        raise ImproperlyConfiguredEnv(name, f"erwartet einen der Werte {', '.join(choices)}, nicht {value!r}")
    return value


class DatabaseSettings(TypedDict):
    """One entry of Django's DATABASES, as far as the environment decides it."""

    ENGINE: str
    NAME: str
    USER: NotRequired[str]
    PASSWORD: NotRequired[str]
    HOST: NotRequired[str]
    PORT: NotRequired[str]
    CONN_MAX_AGE: NotRequired[int]
    CONN_HEALTH_CHECKS: NotRequired[bool]
    OPTIONS: NotRequired[dict[str, object]]  # set by settings.py (SQLite pragmas)


def database_from_url(name: str, url: str) -> DatabaseSettings:
    """Parse ``postgres://user:pass@host:port/db`` or ``sqlite:///path`` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        if not parsed.path.strip("/"):
            raise ImproperlyConfiguredEnv(name, "die URL nennt keine Datenbank")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": envint("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if not path or path == "/":
            raise ImproperlyConfiguredEnv(
                name, "eine sqlite-URL braucht einen Pfad, z. B. sqlite:////var/lib/sz/db.sqlite3"
            )
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    raise ImproperlyConfiguredEnv(
        name, f"das Schema {parsed.scheme!r} wird nicht unterstützt (postgres:// oder sqlite://)"
    )


def envkeys(name: str) -> list[bytes]:
    """Comma-separated 32-byte keys in base64url (the first encrypts, all decrypt: sprechzimmer.atrest)."""
    from sprechzimmer import atrest

    try:
        return [atrest.parse_key(text) for text in envlist(name, [])]
    except atrest.KeyFormatError as error:
        raise ImproperlyConfiguredEnv(name, f"ein Schlüssel {error}") from None

"""Reading what arrives from outside the server: query strings and JSON bodies, typed and bounded.

Every id, date and number a view takes from a query string or a JSON body goes through these
helpers. A value of the wrong type, out of range or malformed becomes an ``InputError`` with a
German message (the view answers 400 with it), never an exception deep inside the ORM or the
``datetime`` module (which would be a 500). Forms do the same for POSTed forms.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from django import forms
from django.core.exceptions import ValidationError
from django.http.request import RawPostDataException
from django.urls import register_converter

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django.http import HttpRequest

    _ModelMultipleChoiceField: TypeAlias = forms.ModelMultipleChoiceField[Model]
else:  # generic only in django-stubs
    _ModelMultipleChoiceField = forms.ModelMultipleChoiceField

#: Ids are positive 64-bit integers (``BigAutoField``); anything beyond cannot name a row.
MAX_ID = 2**63 - 1
#: Dates the product deals with; beyond them arithmetic (a day later, a week earlier) can overflow.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
_DIGITS = re.compile(r"[0-9]{1,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

INCOMPLETE = "Die Anfrage war unvollständig. Bitte versuchen Sie es erneut."

#: What ``json.loads`` makes of JSON (numbers within float range, no NaN: ``json_object``).
JsonValue: TypeAlias = "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"


class InputError(ValidationError):
    """Malformed input; ``message`` is German and may be shown as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- single values --------------------------------------------------------------------------------


def parse_id(value: object) -> int | None:
    """An object id from a query string or JSON (``"12"`` or ``12``), or None if it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def parse_date(value: object) -> dt.date | None:
    """A calendar date ``JJJJ-MM-TT`` within the years the product deals with, or None."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST_DATE <= day <= LATEST_DATE else None


def parse_int(value: object, *, minimum: int, maximum: int) -> int | None:
    """A whole number within bounds from JSON (``15``, ``15.0``, ``"15"``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    elif isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"-?[0-9]{1,18}", value):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return value if minimum <= value <= maximum else None


# --- path values ----------------------------------------------------------------------------------


class IdConverter:
    """``<id:pk>`` in URL patterns: an object id, 1 to 18 digits without leading zeros. A longer
    number cannot name a row (ids are 64-bit); the resolver answers 404 for it instead of handing a
    number to the database that it cannot store (SQLite raises, PostgreSQL compares numerics)."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


# Both URL configurations use it (urls.py, video/routing.py); registering at import keeps them in step.
register_converter(IdConverter, "id")


# --- query strings --------------------------------------------------------------------------------


def query_id(params: Mapping[str, str], name: str, *, label: str) -> int | None:
    """The id in ``?name=``; None if absent or empty; InputError if it is not an id."""
    raw = params.get(name, "")
    if raw == "":
        return None
    number = parse_id(raw)
    if number is None:
        raise InputError(f"{label}: „{_shown(raw)}“ ist keine gültige Auswahl.")
    return number


def query_date(params: Mapping[str, str], name: str) -> dt.date | None:
    """The date in ``?name=`` (JJJJ-MM-TT); None if absent or empty; InputError if it is not one."""
    raw = params.get(name, "")
    if raw == "":
        return None
    day = parse_date(raw)
    if day is None:
        raise InputError(
            f"Kein gültiges Datum: „{_shown(raw)}“ (bitte als JJJJ-MM-TT zwischen "
            f"{EARLIEST_DATE.year} und {LATEST_DATE.year})."
        )
    return day


def _shown(raw: str) -> str:
    text = "".join(c for c in raw if c.isprintable())
    return text if len(text) <= 40 else text[:40] + "…"


# --- JSON bodies ----------------------------------------------------------------------------------


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def json_object(text: str | bytes) -> dict[str, JsonValue]:
    """A JSON object. NaN, Infinity and numbers beyond float range (1e400) are refused like
    malformed JSON (a browser's JSON.parse could not read them back); so are NUL characters in
    strings and anything but an object at the top."""
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InputError(INCOMPLETE) from None
    if not isinstance(data, dict) or _holds_null(data):
        raise InputError(INCOMPLETE)
    return data


def _holds_null(data: JsonValue) -> bool:
    """Whether a string anywhere in the parsed JSON holds a NUL character (PostgreSQL can neither
    store nor compare one)."""
    stack: list[JsonValue] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def json_body(request: HttpRequest) -> dict[str, JsonValue]:
    """The request's JSON object (an empty body is an empty object); see ``json_object``. A form
    body that something already read as a form (the CSRF check reads multipart bodies) is no JSON
    either, not a RawPostDataException."""
    try:
        body = request.body
    except RawPostDataException:
        raise InputError(INCOMPLETE) from None
    return json_object(body or b"{}")


# --- forms ----------------------------------------------------------------------------------------


class ModelIdsField(_ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` that refuses a value which cannot be an id as an invalid
    choice before asking the database (Django passes ``IN (99999999999999999999)`` on, and SQLite
    raises OverflowError for it)."""

    def _check_values(self, value: Iterable[object]) -> QuerySet[Model]:
        for pk in value:
            if parse_id(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": _shown(str(pk))}
                )
        checked: QuerySet[Model] = super()._check_values(value)  # type: ignore[misc]  # private, not in django-stubs
        return checked


def name_problem(name: str, limit: int = 100) -> str | None:
    """What is wrong with a name typed into a form (already stripped): none given, or too long;
    None when it is fine. Used where a view reads a single name without a Django form."""
    if not name:
        return "Bitte geben Sie einen Namen an."
    if len(name) > limit:
        return f"Der Name darf höchstens {limit} Zeichen lang sein."
    return None

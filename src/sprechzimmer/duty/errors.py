"""The one error of the duty actions: a rule stops the action; the message (German) is shown to the
user as it is."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import OperationalError

P = ParamSpec("P")
R = TypeVar("R")

#: SQLite refuses a second writer at the same instant ("database table is locked"); PostgreSQL may
#: end one of two crosswise waiting transactions ("deadlock detected"). Either way nothing changed.
BUSY = "Gerade ändern mehrere gleichzeitig Dienste. Bitte versuchen Sie es in einem Moment erneut."


class DutyError(Exception):
    """A rule stops the action; the message (German) is shown to the user as it is."""


def busy_as_duty_error(action: Callable[P, R]) -> Callable[P, R]:
    """A write refused because another one holds the lock becomes a DutyError ("bitte erneut
    versuchen"), never a 500. Wraps the whole action, so its transaction is rolled back first."""

    @wraps(action)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return action(*args, **kwargs)
        except OperationalError as error:
            text = str(error).lower()
            if "locked" in text or "deadlock" in text:
                raise DutyError(BUSY) from error
            raise

    return wrapper

"""Duty pages by audience: ``staff`` (KV planning, /kv/…), ``doctor`` (own duties, the exchange,
calendar, /dienste/…), ``pay`` (statements and bonus of K-Ärzte) and ``applications`` (K-Arzt
applications). Views scope every object to the user's KV and call the actions of the activity
modules (plans, exchange, payment, bonus …); they write no models themselves."""

from django.contrib import messages
from django.shortcuts import redirect


def fail(request, error: Exception, to: str, *args):
    """A refused action: its German reason as a message, back to the page it came from."""
    messages.error(request, str(error))
    return redirect(to, *args)

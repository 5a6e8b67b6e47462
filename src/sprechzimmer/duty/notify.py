"""Telling a doctor about a change by e-mail, once the change is committed (sprechzimmer/mail.py)."""

from __future__ import annotations

from django.urls import reverse

from sprechzimmer import mail
from sprechzimmer.duty.models import DutyDoctor


def notify(doctor: DutyDoctor | None, subject: str, text: str, *, link: str = "") -> None:
    """A mail to the doctor once the change is committed (a mail outage delays it, never undoes it).
    ``link``: an absolute URL of the page where the doctor sees or answers it."""
    if doctor is None:
        return
    mail.send(
        "duty_notice",
        doctor.user.email,
        {"full_name": doctor.user.full_name, "subject": subject, "text": text, "link": link},
    )


def duties_link(base_url: str) -> str:
    """The doctor's duties page ("Dienste") on this instance, or "" when the caller has no base URL."""
    return base_url.rstrip("/") + reverse("duty_mine") if base_url else ""

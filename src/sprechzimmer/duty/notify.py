"""Telling a doctor about a change by e-mail, once the change is committed (sprechzimmer/mail.py)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from sprechzimmer import mail
from sprechzimmer.duty.models import DutyDoctor


def notify(doctor: DutyDoctor | None, subject: str, text: str, *, link: str = "") -> None:
    """A mail to the doctor once the change is committed (a mail outage delays it, never undoes it).
    ``link``: an absolute URL of the page where the doctor sees or answers it; without one, the
    doctor's duties page ("Dienste") at SITE_URL: every notice says where to look."""
    if doctor is None:
        return
    link = link or duties_link("")
    mail.send(
        "duty_notice",
        doctor.user.email,
        {"full_name": doctor.user.full_name, "subject": subject, "text": text, "link": link},
    )


def duties_link(base_url: str) -> str:
    """The doctor's duties page ("Dienste") on this instance: under ``base_url`` (the address the
    request came to), or under SITE_URL when the caller has none (a task, a command)."""
    return (base_url or settings.SITE_URL).rstrip("/") + reverse("duty_mine")


def exchange_link(base_url: str) -> str:
    """The exchange page ("Dienstbörse"), where swap offers are answered."""
    return (base_url or settings.SITE_URL).rstrip("/") + reverse("duty_exchange")

"""Telling a doctor about a change by e-mail, once the change is committed (sprechzimmer/mail.py)."""

from __future__ import annotations

from sprechzimmer import mail
from sprechzimmer.duty.models import DutyDoctor


def notify(doctor: DutyDoctor | None, subject: str, text: str) -> None:
    """A mail to the doctor once the change is committed (a mail outage delays it, never undoes it)."""
    if doctor is None:
        return
    mail.send("duty_notice", doctor.user.email, {"full_name": doctor.user.full_name, "subject": subject, "text": text})

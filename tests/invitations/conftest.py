"""A plus practice with an appointment three days ahead, a basis practice, an outsider, and the real
SMTP server of the browser tests (aiosmtpd) behind Django's SMTP backend."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract
from sprechzimmer.video import services
from sprechzimmer.video.models import Appointment
from tests import factories
from tests.browser.conftest import Mailbox, free_port

ADDRESS = "patientin.vogel@example.org"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield type("S", (), {"mailbox": mailbox, "controller": controller})
    controller.stop()


def appointment_for(practice, doctor, start):
    appointment = Appointment.objects.create(
        organisation=practice, doctor=doctor, start=start, patient_ciphertext=factories.envelope("rec1")
    )
    return appointment, services.issue_code(appointment)


@pytest.fixture
def clinic(db, client, settings):
    settings.SITE_URL = "https://sprechzimmer.example.org"
    settings.REMINDER_HOURS = (24, 1)
    practice = factories.practice("Praxis Sonnenhof")
    Contract.objects.update_or_create(organisation=practice, defaults={"plan": Plan.PLUS})
    doctor = factories.member(practice, main=True)
    doctor.full_name = "Dr. Maria Linde"
    doctor.save()
    start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    appointment, code = appointment_for(practice, doctor, start)
    basis = factories.practice("Praxis Basis")
    basis_doctor = factories.member(basis, main=True)
    basis_appointment, basis_code = appointment_for(basis, basis_doctor, start)
    other = factories.practice("Praxis Fremd")
    Contract.objects.update_or_create(organisation=other, defaults={"plan": Plan.PLUS})
    outsider = factories.member(other, main=True)
    client.force_login(doctor)
    return type(
        "Clinic",
        (),
        dict(
            practice=practice,
            doctor=doctor,
            appointment=appointment,
            code=code,
            basis_doctor=basis_doctor,
            basis_appointment=basis_appointment,
            basis_code=basis_code,
            outsider=outsider,
            client=client,
        ),
    )


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def patch_json(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def server_log():
    """Everything our loggers and Huey's write during the test, as an operator's log would hold it."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))
            if record.exc_info:
                records.append(logging.Formatter().formatException(record.exc_info))

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("sprechzimmer", "huey", "django")]
    for logger in loggers:
        logger.addHandler(handler)
    yield records
    for logger in loggers:
        logger.removeHandler(handler)

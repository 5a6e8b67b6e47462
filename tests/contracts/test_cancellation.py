"""Cancellation and revocation: the end date, the banner on every practice page, and the
confirmation mails, delivered through the queue to a real SMTP server (aiosmtpd)."""

import datetime as dt

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.contracts import domain, gate
from sprechzimmer.contracts.models import Contract
from tests.browser.conftest import Mailbox, free_port

BANNER = "Nach Ablauf der Kündigungsfrist werden Ihr Benutzerkonto und alle von Ihnen erfassten Daten unwiderruflich gelöscht!"


@pytest.fixture
def smtp(settings):
    """Mail leaves through Django's SMTP backend to a real SMTP server on loopback."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield mailbox
    controller.stop()


def test_the_dialog_names_the_end_date_what_is_deleted_and_what_is_kept(client, practice):
    client.force_login(practice.owner)
    body = client.get(reverse("contract_cancel")).content.decode()
    ends = domain.cancellation_end(timezone.localdate())
    assert f'endet Ihr Vertrag zum <strong id="dialog-ends-on">{ends:%d.%m.%Y}</strong>' in body
    assert "Gelöscht werden" in body and "alle Termine mit den verschlüsselten Patientendaten" in body
    assert "Aufbewahrt werden" in body and "8 Jahre" in body
    assert "Kündigung bestätigen" in body
    assert gate.contract_of(practice.practice).ends_on is None  # looking changes nothing


def test_cancel_shows_the_banner_everywhere_mails_and_revocation_resets(
    client, practice, smtp, django_capture_on_commit_callbacks
):
    client.force_login(practice.owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contract_cancel"))
    contract = Contract.objects.get(organisation=practice.practice)
    ends = domain.cancellation_end(timezone.localdate())
    assert contract.ends_on == ends and contract.cancelled_by == practice.owner
    message = smtp.wait_for(practice.owner.email, "Kündigungsbestätigung")
    text = message.get_content()
    assert f"Ihr Vertrag endet zum {ends:%d.%m.%Y}" in text and "unwiderruflich gelöscht" in text

    banner = f"Ihr Vertrag endet zum {ends:%d.%m.%Y}. Bis dahin können Sie alle Funktionen in vollem Umfang nutzen."
    client.force_login(practice.colleague)
    for name in ("dashboard", "calendar", "members", "devices", "billing", "contract"):
        body = client.get(reverse(name)).content.decode()
        assert banner in body and BANNER in body, name
    client.force_login(practice.outsider)
    assert BANNER not in client.get(reverse("dashboard")).content.decode()

    client.force_login(practice.owner)
    assert "Kündigung widerrufen" in client.get(reverse("contract_revoke")).content.decode()
    assert "auch die Kündigungsfrist zurückgesetzt" in client.get(reverse("contract_revoke")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contract_revoke"))
    assert Contract.objects.get(organisation=practice.practice).ends_on is None
    assert BANNER not in client.get(reverse("dashboard")).content.decode()
    message = smtp.wait_for(practice.owner.email, "Widerruf Ihrer Kündigung")
    assert "Kündigungsfrist ist zurückgesetzt" in message.get_content()


def test_a_second_notice_and_a_late_revocation_are_refused(client, practice):
    client.force_login(practice.owner)
    client.post(reverse("contract_cancel"))
    first = Contract.objects.get(organisation=practice.practice).cancelled_at
    response = client.post(reverse("contract_cancel"), follow=True)
    assert "bereits zum" in response.content.decode()
    assert Contract.objects.get(organisation=practice.practice).cancelled_at == first
    # after the end date the notice can no longer be revoked (the deletion task runs then)
    Contract.objects.filter(organisation=practice.practice).update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    response = client.post(reverse("contract_revoke"), follow=True)
    assert "kann nicht mehr widerrufen werden" in response.content.decode()
    assert Contract.objects.get(organisation=practice.practice).ends_on is not None


def test_revoking_without_a_notice_says_so(client, practice):
    client.force_login(practice.owner)
    response = client.post(reverse("contract_revoke"), follow=True)
    assert "Ihr Vertrag ist nicht gekündigt." in response.content.decode()


def test_a_cancelled_contract_cannot_switch_plans(client, practice):
    client.force_login(practice.owner)
    client.post(reverse("contract_cancel"))
    response = client.post(reverse("contract_switch"), {"plan": "plus"}, follow=True)
    assert "Bitte widerrufen Sie zuerst die Kündigung" in response.content.decode()
    assert gate.contract_of(practice.practice).plan == "basis"

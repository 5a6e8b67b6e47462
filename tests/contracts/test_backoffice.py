"""The operator's back office (Django admin under /betrieb/): contract and billing data for staff of
the operator, nothing for anyone else, and no patient data at all."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.models import User
from sprechzimmer.contracts import invoicing
from sprechzimmer.contracts.models import Contract, SepaExport
from sprechzimmer.demo import provisioning
from sprechzimmer.demo.keys import derive_login_secrets
from tests import factories
from tests.contracts.test_invoices import plus_practice


@pytest.fixture
def staff(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Betrieb-Passwort-2026\n"))
    call_command("operator_staff", "betrieb@example.org", password_stdin=True, stdout=io.StringIO())
    user = User.objects.get(email="betrieb@example.org")
    assert user.is_staff and user.organisation_id is None
    assert user.check_password(derive_login_secrets("betrieb@example.org", "Betrieb-Passwort-2026")[0])
    assert not user.check_password("Betrieb-Passwort-2026")  # only the derived secret's hash
    provisioning.enable_totp(user, factories.TOTP_SECRET)  # as at the first login
    return user


def test_staff_see_practices_with_plan_and_cancellations_falling_due(client, staff, practice):
    Contract.objects.create(organisation=practice.practice, ends_on=timezone.localdate() + dt.timedelta(days=10))
    client.force_login(staff)
    body = client.get(reverse("admin:contracts_contract_changelist") + "?status=due30").content.decode()
    assert practice.practice.name in body and practice.practice.bsnr in body
    body = client.get(reverse("admin:contracts_contract_changelist") + "?status=running").content.decode()
    assert practice.practice.name not in body


def test_invoices_pdfs_and_the_sepa_file_from_the_back_office(client, staff, operator):
    practice = plus_practice("Praxis Backoffice")
    Contract.objects.filter(organisation=practice).update(
        account_holder="Praxis Backoffice",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        mandate_reference="SZ-1-TEST",
        mandate_signed_on=dt.date(2026, 10, 1),
    )
    invoice = invoicing.invoice_month(practice, 2026, 11, dt.date(2026, 12, 1))
    client.force_login(staff)
    assert invoice.number in client.get(reverse("admin:contracts_invoice_changelist")).content.decode()
    response = client.get(reverse("admin:contracts_invoice_pdf", args=[invoice.pk]))
    assert b"".join(response.streaming_content) == invoicing.invoice_pdf_bytes(invoice)
    client.post(
        reverse("admin:contracts_invoice_changelist"),
        {"action": "make_sepa_file", "_selected_action": [invoice.pk]},
    )
    record = SepaExport.objects.get()
    response = client.get(reverse("admin:contracts_sepaexport_file", args=[record.pk]))
    assert b"SZ-1-TEST" in b"".join(response.streaming_content)


def test_no_patient_data_is_registered(client, staff):
    client.force_login(staff)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Verträge" in index and "Rechnungen" in index
    for path in ("video/appointment/", "records/encryptedrecord/", "video/videocontact/", "accounts/user/"):
        assert client.get(f"/betrieb/{path}").status_code == 404, path


def test_nobody_but_staff_gets_in_and_no_password_form_is_shown(client, db):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    login = client.get(response["Location"], follow=True)
    assert login.request["PATH_INFO"] == reverse("account_login")
    member = factories.member(factories.practice(), main=True)
    client.force_login(member)
    assert client.get(reverse("admin:contracts_contract_changelist"), follow=True).status_code == 404
    assert client.get(reverse("admin:password_change")).status_code in (302, 404)

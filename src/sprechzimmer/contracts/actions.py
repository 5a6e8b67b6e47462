"""What the main user does with the contract: switch plans, give notice, revoke the notice.

Each action runs in one transaction with the contract row locked, checks its preconditions there
and raises ``ContractError`` with a German message that changes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.contracts import domain, gate
from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract
from sprechzimmer.core import formats


class ContractError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _locked(organisation: Organisation) -> Contract:
    contract = gate.contract_of(organisation)
    return Contract.objects.select_for_update().get(pk=contract.pk)


def switch_plan(organisation: Organisation, target: str, today: dt.date | None = None) -> str:
    """WECHSELN. Up (basis → plus) takes effect at once; down (plus → basis) on the first day after
    the billed month. Asking for plus while a switch down waits withdraws that switch. Returns the
    German confirmation."""
    today = today or timezone.localdate()
    try:
        plan = Plan(target)
    except ValueError:
        raise ContractError("Bitte wählen Sie basis oder plus.") from None
    with transaction.atomic():
        contract = _locked(organisation)
        if contract.ends_on:
            raise ContractError(
                "Ihr Vertrag ist gekündigt. Bitte widerrufen Sie zuerst die Kündigung, wenn Sie den Vertrag wechseln möchten."
            )
        if plan == Plan.PLUS:
            if contract.plan == Plan.PLUS and contract.pending_plan:
                contract.pending_plan, contract.pending_from = "", None
                contract.save(update_fields=["pending_plan", "pending_from"])
                return "Der Wechsel zu basis ist zurückgenommen; Ihr Vertrag bleibt plus."
            if contract.plan == Plan.PLUS:
                raise ContractError("Ihr Vertrag ist bereits plus.")
            contract.plan, contract.plan_since = Plan.PLUS, today
            contract.save(update_fields=["plan", "plan_since"])
            return "Ihr Vertrag ist ab sofort plus. Alle Funktionen von plus stehen Ihnen jetzt zur Verfügung."
        if contract.plan == Plan.BASIS:
            raise ContractError("Ihr Vertrag ist bereits basis.")
        if contract.pending_plan == Plan.BASIS:
            raise ContractError("Der Wechsel zu basis ist bereits vorgemerkt.")
        limit = domain.BASIS_MAX_USERS
        if gate.users_counted(organisation) > limit:
            raise ContractError(
                f"basis umfasst höchstens {limit} Benutzer. Bitte deaktivieren Sie zuerst Mitglieder oder ziehen "
                "Sie offene Einladungen zurück, bis höchstens so viele übrig sind."
            )
        contract.pending_plan, contract.pending_from = Plan.BASIS, domain.downgrade_from(today)
        contract.save(update_fields=["pending_plan", "pending_from"])
        return (
            f"Der Wechsel zu basis ist vorgemerkt: Ihr Vertrag bleibt bis zum "
            f"{formats.date(contract.pending_from - dt.timedelta(days=1))} plus und ist ab dem "
            f"{formats.date(contract.pending_from)} basis."
        )


def _contract_mail_recipients(organisation: Organisation, contract: Contract) -> list[str]:
    addresses = list(
        User.objects.filter(organisation=organisation, is_main_user=True, is_active=True).values_list(
            "email", flat=True
        )
    )
    if contract.billing_email and contract.billing_email not in addresses:
        addresses.append(contract.billing_email)
    return addresses


def cancel(organisation: Organisation, user: User, today: dt.date | None = None) -> Contract:
    """KÜNDIGUNG BESTÄTIGEN: the contract ends three months to the end of a quarter; then the
    practice and all its data are deleted (contracts.deletion). A confirmation mail goes out."""
    today = today or timezone.localdate()
    with transaction.atomic():
        contract = _locked(organisation)
        if contract.ends_on:
            raise ContractError(f"Ihr Vertrag ist bereits zum {formats.date(contract.ends_on)} gekündigt.")
        contract.cancelled_at, contract.cancelled_by = timezone.now(), user
        contract.ends_on = domain.cancellation_end(today)
        contract.save(update_fields=["cancelled_at", "cancelled_by", "ends_on"])
        mail.send(
            "contract_cancelled",
            _contract_mail_recipients(organisation, contract),
            {"practice": organisation, "contract": contract, "ends_on": formats.date(contract.ends_on), "by": user},
        )
    return contract


def revoke(organisation: Organisation, user: User, today: dt.date | None = None) -> Contract:
    """KÜNDIGUNG WIDERRUFEN, possible until the end date: the contract runs on, and a later notice
    starts a new notice period."""
    today = today or timezone.localdate()
    with transaction.atomic():
        contract = _locked(organisation)
        if not contract.ends_on:
            raise ContractError("Ihr Vertrag ist nicht gekündigt.")
        if contract.ends_on < today:
            raise ContractError("Die Kündigungsfrist ist abgelaufen; die Kündigung kann nicht mehr widerrufen werden.")
        contract.cancelled_at, contract.cancelled_by, contract.ends_on = None, None, None
        contract.save(update_fields=["cancelled_at", "cancelled_by", "ends_on"])
        mail.send(
            "contract_revoked",
            _contract_mail_recipients(organisation, contract),
            {"practice": organisation, "by": user},
        )
    return contract


def set_bank_details(organisation: Organisation, user: User, data: dict, today: dt.date | None = None) -> Contract:
    """Stores the account and records the SEPA mandate: who confirmed it and on which day. A new
    account is a new mandate (new reference, new date); the same account keeps its mandate."""
    today = today or timezone.localdate()
    with transaction.atomic():
        contract = _locked(organisation)
        new_account = data["iban"] != contract.iban or not contract.mandate_reference
        contract.account_holder, contract.iban, contract.bic = data["account_holder"], data["iban"], data["bic"]
        if new_account:
            contract.mandate_reference = f"SZ-{organisation.pk:07d}-{secrets.token_hex(4).upper()}"
            contract.mandate_signed_on = today
            contract.mandate_confirmed_by = f"{user.full_name} <{user.email}>"
        contract.save(
            update_fields=[
                "account_holder",
                "iban",
                "bic",
                "mandate_reference",
                "mandate_signed_on",
                "mandate_confirmed_by",
            ]
        )
    return contract

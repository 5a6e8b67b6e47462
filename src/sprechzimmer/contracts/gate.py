"""The feature gate every feature asks (``plan_allows``) and the member limit of the plan.

Later features check here, on the server: SMS invitations (``Feature.SMS_INVITATION``),
conferences, screen sharing. The UI shows what an upgrade brings, but only this decides.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.contracts import domain
from sprechzimmer.contracts.domain import Feature, Plan
from sprechzimmer.contracts.models import Contract


class PlanLimit(Exception):
    """The plan does not allow this; ``message`` is German and says what plus would bring."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def contract_of(organisation: Organisation, today: dt.date | None = None) -> Contract:
    """The practice's contract (basis until a switch), with a switch down applied once its day
    has come (the daily job does the same for practices nobody looks at)."""
    contract, _ = Contract.objects.get_or_create(organisation=organisation)
    return apply_due_switch(contract, today)


def apply_due_switch(contract: Contract, today: dt.date | None = None) -> Contract:
    today = today or timezone.localdate()
    if contract.pending_plan and contract.pending_from and contract.pending_from <= today:
        Contract.objects.filter(pk=contract.pk, pending_plan=contract.pending_plan).update(
            plan=contract.pending_plan, plan_since=contract.pending_from, pending_plan="", pending_from=None
        )
        contract.refresh_from_db()
    return contract


def plan_of(organisation: Organisation) -> Plan:
    return Plan(contract_of(organisation).plan)


def plan_allows(organisation: Organisation, feature: Feature | str) -> bool:
    """Whether the practice's plan allows ``feature`` today. An unknown feature name is a
    programming error (ValueError), not a refusal."""
    return domain.allows(plan_of(organisation), Feature(feature))


def require(organisation: Organisation, feature: Feature | str) -> None:
    """Raises PlanLimit with the German reason unless the plan allows ``feature``."""
    feature = Feature(feature)
    if not plan_allows(organisation, feature):
        raise PlanLimit(
            f"{domain.FEATURE_LABELS[feature]} ist in Ihrem Vertrag basis nicht enthalten. "
            "Mit plus steht Ihnen diese Funktion sofort zur Verfügung (Stammdaten → Rechnungsdaten → Vertrag)."
        )


def user_limit(contract: Contract) -> int | None:
    """The users the plan allows; while a switch down waits, already the lower plan's limit (so the
    practice does not grow past it before the switch)."""
    limits = [domain.max_users(Plan(contract.plan))]
    if contract.pending_plan:
        limits.append(domain.max_users(Plan(contract.pending_plan)))
    numbers = [limit for limit in limits if limit is not None]
    return min(numbers) if numbers else None


def users_counted(organisation: Organisation) -> int:
    """Active members and open invitations: an invitation holds a place until it is taken or
    withdrawn, so acceptance never needs a place that is not there."""
    open_invitations = organisation.invitations.filter(accepted_at=None, expires_at__gt=timezone.now()).count()
    return organisation.members.filter(is_active=True).count() + open_invitations


def limit_message(limit: int) -> str:
    return (
        f"Ihr Vertrag basis umfasst höchstens {limit} Benutzer (aktive Mitglieder und offene Einladungen). "
        "Mit plus können Sie beliebig viele weitere Benutzer hinzufügen (Stammdaten → Rechnungsdaten → Vertrag)."
    )


def check_room_for_member(organisation: Organisation, *, counted_already: bool = False) -> None:
    """Raises PlanLimit unless one more user fits the plan. Call inside a transaction: the contract
    row is locked, so two invitations sent at once cannot both take the last place.
    ``counted_already``: the person holds a place already (an open invitation being accepted)."""
    assert transaction.get_connection().in_atomic_block, "check_room_for_member needs a transaction"
    contract = contract_of(organisation)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    limit = user_limit(contract)
    if limit is None:
        return
    taken = users_counted(organisation)
    if counted_already:
        taken = organisation.members.filter(is_active=True).count()
    if taken + 1 > limit:
        raise PlanLimit(limit_message(limit))

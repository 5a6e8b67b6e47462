"""Swapping duties (Diensttausch): a doctor offers their duty for a named colleague's duty, or to the
exchange for any duty in return; the partner accepts (or the offering doctor accepts a colleague's
proposal). Both duties change hands in one transaction under the hard rules of taking a duty
(duty/exchange.py): same KV, published plan, not begun, qualification, rest period and no double
booking for each of the two doctors, no substitute named or asked for."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.duty.errors import DutyError, busy_as_duty_error
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan, SwapOffer, SwapProposal
from sprechzimmer.duty.notify import duties_link, exchange_link
from sprechzimmer.duty.serving import check_may_serve

OPEN = SwapOffer.Status.OPEN


def _duty_text(duty: Duty) -> str:
    return (
        f"{duty.duty_type.get_kind_display()} am {duty.local_start:%d.%m.%Y} "
        f"({duty.local_start:%H:%M} – {duty.local_end:%d.%m.%Y %H:%M}, {duty.duty_type.place})"
    )


def _swappable(duty: Duty, owner: DutyDoctor) -> None:
    """The duty is still ``owner``'s, ahead, and served by them themselves."""
    if duty.doctor_id != owner.pk or duty.status == Duty.Status.OPEN:
        raise DutyError(f"Der Dienst am {duty.local_start:%d.%m.%Y} ist bereits vergeben; der Tausch ist hinfällig.")
    if duty.start <= timezone.now():
        raise DutyError(f"Der Dienst am {duty.local_start:%d.%m.%Y} hat bereits begonnen.")
    if duty.substitute_id or duty.pending_substitute_id:
        raise DutyError(
            f"Für den Dienst am {duty.local_start:%d.%m.%Y} ist eine Vertretung eingetragen oder angefragt."
        )


def _published(pk: int, kv_id: int) -> Duty:
    return Duty.objects.select_related("plan__area", "duty_type__practice", "doctor__user").get(
        pk=pk, plan__area__kv_id=kv_id, plan__status=Plan.Status.PUBLISHED
    )


def _may_take(doctor: DutyDoctor, duty: Duty, gives: Duty, *, me: DutyDoctor) -> None:
    """``doctor`` may serve ``duty`` once ``gives`` is no longer theirs. For the other party the
    reason is not spelled out: their other duties are not the asking doctor's business."""
    try:
        check_may_serve(doctor, duty, ignore={gives.pk})
    except DutyError as error:
        if doctor.pk == me.pk:
            raise DutyError(f"Der Tausch ist nicht möglich: {error}") from error
        raise DutyError(
            f"Der Tausch ist nicht möglich: {doctor} darf den Dienst am {duty.local_start:%d.%m.%Y} nicht "
            "übernehmen (Qualifikation, Ruhezeit oder Überschneidung mit einem anderen Dienst)."
        ) from error


def offer_swap(
    doctor: DutyDoctor, duty_id: int, partner: DutyDoctor | None = None, wanted_id: int | None = None, *, base_url=""
) -> SwapOffer:
    """Offer one's duty for ``partner``'s duty ``wanted_id``, or (both None) for any duty in return."""
    try:
        duty = _published(duty_id, doctor.kv_id)
    except Duty.DoesNotExist:
        raise DutyError("Diesen Dienst gibt es in Ihren veröffentlichten Plänen nicht.") from None
    if duty.doctor_id != doctor.pk:
        raise DutyError("Das ist nicht Ihr Dienst.")
    _swappable(duty, doctor)
    wanted = None
    if partner is not None:
        if partner.pk == doctor.pk:
            raise DutyError("Sie können nicht mit sich selbst tauschen.")
        if partner.kv_id != doctor.kv_id:
            raise DutyError("Getauscht wird nur mit Ärztinnen und Ärzten Ihrer KV.")
        try:
            wanted = _published(wanted_id, doctor.kv_id) if wanted_id is not None else None
        except Duty.DoesNotExist:
            wanted = None
        if wanted is None or wanted.doctor_id != partner.pk:
            raise DutyError(f"{partner} hat an diesem Tag keinen Dienst, der sich tauschen lässt.")
        _swappable(wanted, partner)
        # Refuse now what the acceptance would refuse: no offer the partner cannot accept.
        _may_take(doctor, wanted, duty, me=doctor)
        _may_take(partner, duty, wanted, me=doctor)
    if SwapOffer.objects.filter(doctor=doctor, offered=duty, wanted=wanted, status=OPEN).exists():
        raise DutyError("Dieses Tauschangebot besteht bereits.")
    offer = SwapOffer.objects.create(doctor=doctor, offered=duty, partner=partner, wanted=wanted)
    if partner is not None and wanted is not None:
        mail.send(
            "duty_swap_request",
            partner.user.email,
            {
                "full_name": partner.user.full_name,
                "other": str(doctor),
                "gives": _duty_text(duty),
                "takes": _duty_text(wanted),
                "link": exchange_link(base_url),
            },
        )
    return offer


def propose(offer_id: int, doctor: DutyDoctor, duty_id: int, *, base_url="") -> SwapProposal:
    """A colleague answers an open offer ("beliebiger Dienst") with one of their duties."""
    offer = visible_offers(doctor).get(pk=offer_id)  # DoesNotExist: not theirs to see (404)
    if offer.wanted_id is not None:
        raise DutyError("Dieses Tauschangebot gilt einem bestimmten Dienst.")
    if offer.doctor_id == doctor.pk:
        raise DutyError("Das ist Ihr eigenes Tauschangebot.")
    try:
        duty = _published(duty_id, doctor.kv_id)
    except Duty.DoesNotExist:
        raise DutyError("Diesen Dienst gibt es in Ihren veröffentlichten Plänen nicht.") from None
    if duty.doctor_id != doctor.pk:
        raise DutyError("Sie können nur einen eigenen Dienst zum Tausch vorschlagen.")
    offered = _published(offer.offered_id, doctor.kv_id)
    _swappable(offered, offer.doctor)
    _swappable(duty, doctor)
    _may_take(doctor, offered, duty, me=doctor)
    _may_take(offer.doctor, duty, offered, me=doctor)
    if offer.proposals.filter(doctor=doctor, duty=duty, status=OPEN).exists():
        raise DutyError("Diesen Vorschlag haben Sie bereits gemacht.")
    proposal = SwapProposal.objects.create(offer=offer, doctor=doctor, duty=duty)
    mail.send(
        "duty_swap_request",
        offer.doctor.user.email,
        {
            "full_name": offer.doctor.user.full_name,
            "other": str(doctor),
            "gives": _duty_text(offered),
            "takes": _duty_text(duty),
            "link": exchange_link(base_url),
        },
    )
    return proposal


def _execute(
    giver: DutyDoctor, given_id: int, receiver: DutyDoctor, received_id: int, *, me: DutyDoctor, offer_id: int
):
    """Inside a transaction: ``giver``'s duty goes to ``receiver`` and ``receiver``'s to ``giver``.
    Both doctors' rows are locked (in id order, so two swaps never deadlock) as a take locks its
    taker's, and each duty changes only by a conditional UPDATE on the owner and status seen: a take
    or another swap that came first leaves it unmatched, and the whole swap is rolled back. The
    offer's row is written last, after the duties, in the order a take writes (duty, then the
    offers it makes void), so a swap and a take never wait for each other crosswise."""
    list(DutyDoctor.objects.select_for_update().filter(pk__in=[giver.pk, receiver.pk]).order_by("pk"))
    given = _published(given_id, giver.kv_id)
    received = _published(received_id, giver.kv_id)
    _swappable(given, giver)
    _swappable(received, receiver)
    _may_take(receiver, given, received, me=me)
    _may_take(giver, received, given, me=me)
    for duty, old, new in ((given, giver, receiver), (received, receiver, giver)):
        won = Duty.objects.filter(
            pk=duty.pk, doctor=old, status=duty.status, substitute=None, pending_substitute=None
        ).update(doctor=new, status=Duty.Status.ASSIGNED)
        if not won:
            raise DutyError(
                f"Den Dienst am {duty.local_start:%d.%m.%Y} hat gerade jemand anderes übernommen; "
                "der Tausch ist nicht erfolgt."
            )
    void_swaps([given.pk, received.pk], keep=offer_id)
    if not SwapOffer.objects.filter(pk=offer_id, status=OPEN).update(
        status=SwapOffer.Status.DONE, decided_at=timezone.now()
    ):
        raise DutyError("Dieses Tauschangebot ist nicht mehr offen.")
    return given, received


def void_swaps(duty_ids: list[int], keep: int | None = None) -> None:
    """Open offers and proposals about duties that changed hands can no longer be accepted."""
    offers = SwapOffer.objects.filter(Q(offered_id__in=duty_ids) | Q(wanted_id__in=duty_ids), status=OPEN)
    offers.exclude(pk=keep).update(status=SwapOffer.Status.VOID, decided_at=timezone.now())
    SwapProposal.objects.filter(Q(duty_id__in=duty_ids) | Q(offer__offered_id__in=duty_ids), status=OPEN).exclude(
        offer_id=keep
    ).update(status=SwapOffer.Status.VOID)


def _tell_both(giver: DutyDoctor, given: Duty, receiver: DutyDoctor, received: Duty, base_url: str) -> None:
    for doctor, other, gives, takes in ((giver, receiver, given, received), (receiver, giver, received, given)):
        mail.send(
            "duty_swap_done",
            doctor.user.email,
            {
                "full_name": doctor.user.full_name,
                "other": str(other),
                "gives": _duty_text(gives),
                "takes": _duty_text(takes),
                "link": duties_link(base_url),
            },
        )


@busy_as_duty_error
def accept(offer_id: int, partner: DutyDoctor, *, base_url="") -> tuple[Duty, Duty]:
    """The named partner accepts a swap offer: both duties change hands, or nothing changes."""
    offer = SwapOffer.objects.select_related("doctor__user").get(
        pk=offer_id, partner=partner, wanted__isnull=False
    )  # DoesNotExist: not addressed to them (404)
    if offer.status != OPEN:
        raise DutyError(f"Dieses Tauschangebot ist {offer.get_status_display()}.")
    assert offer.wanted_id is not None
    with transaction.atomic():
        given, received = _execute(
            offer.doctor, offer.offered_id, partner, offer.wanted_id, me=partner, offer_id=offer.pk
        )
    _tell_both(offer.doctor, given, partner, received, base_url)
    return given, received


@busy_as_duty_error
def accept_proposal(proposal_id: int, doctor: DutyDoctor, *, base_url="") -> tuple[Duty, Duty]:
    """The offering doctor accepts a colleague's proposal to an open offer."""
    proposal = SwapProposal.objects.select_related("offer", "doctor__user").get(
        pk=proposal_id, offer__doctor=doctor
    )  # DoesNotExist: not their offer (404)
    if proposal.status != OPEN or proposal.offer.status != OPEN:
        raise DutyError("Dieser Vorschlag ist nicht mehr offen.")
    with transaction.atomic():
        given, received = _execute(
            doctor, proposal.offer.offered_id, proposal.doctor, proposal.duty_id, me=doctor, offer_id=proposal.offer_id
        )
        SwapProposal.objects.filter(pk=proposal.pk).update(status=SwapOffer.Status.DONE)
        SwapProposal.objects.filter(offer_id=proposal.offer_id, status=OPEN).update(status=SwapOffer.Status.DECLINED)
    _tell_both(doctor, given, proposal.doctor, received, base_url)
    return given, received


def decline(offer_id: int, partner: DutyDoctor) -> None:
    offer = SwapOffer.objects.get(pk=offer_id, partner=partner)
    if not SwapOffer.objects.filter(pk=offer.pk, status=OPEN).update(
        status=SwapOffer.Status.DECLINED, decided_at=timezone.now()
    ):
        raise DutyError("Dieses Tauschangebot ist nicht mehr offen.")


def decline_proposal(proposal_id: int, doctor: DutyDoctor) -> None:
    proposal = SwapProposal.objects.get(pk=proposal_id, offer__doctor=doctor)
    if not SwapProposal.objects.filter(pk=proposal.pk, status=OPEN).update(status=SwapOffer.Status.DECLINED):
        raise DutyError("Dieser Vorschlag ist nicht mehr offen.")


def withdraw(offer_id: int, doctor: DutyDoctor) -> None:
    offer = SwapOffer.objects.get(pk=offer_id, doctor=doctor)
    if not SwapOffer.objects.filter(pk=offer.pk, status=OPEN).update(
        status=SwapOffer.Status.WITHDRAWN, decided_at=timezone.now()
    ):
        raise DutyError("Dieses Tauschangebot ist nicht mehr offen.")
    SwapProposal.objects.filter(offer=offer, status=OPEN).update(status=SwapOffer.Status.WITHDRAWN)


def visible_offers(doctor: DutyDoctor):
    """Open offers the doctor may see: their own, those addressed to them, and open ones ("any duty")
    of their KV whose duty has not begun and is still the offering doctor's."""
    return (
        SwapOffer.objects.filter(
            status=OPEN,
            offered__plan__status=Plan.Status.PUBLISHED,
            offered__plan__area__kv_id=doctor.kv_id,
            offered__start__gt=timezone.now(),
        )
        .filter(Q(doctor=doctor) | Q(partner=doctor) | Q(partner__isnull=True, wanted__isnull=True))
        .select_related(
            "doctor__user",
            "partner__user",
            "offered__duty_type__practice",
            "offered__duty_type__area",
            "offered__plan__area",
        )
        .select_related("wanted__duty_type__practice", "wanted__duty_type__area")
        .order_by("offered__start")
    )


def wanted_duty(partner: DutyDoctor, day) -> Duty | None:
    """The partner's duty starting on ``day`` in a published plan (a doctor serves at most one a day)."""
    return (
        Duty.objects.filter(doctor=partner, day=day, plan__status=Plan.Status.PUBLISHED)
        .select_related("duty_type")
        .order_by("start")
        .first()
    )

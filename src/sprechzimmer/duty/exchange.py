"""The duty exchange (doctors): take an open or offered duty, offer and withdraw, give back (K-Ärzte),
hand a duty to a substitute and answer such a request. The hard rules are those of planning."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sprechzimmer.duty.domain.calendar import BERLIN
from sprechzimmer.duty.errors import DutyError, busy_as_duty_error
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan
from sprechzimmer.duty.notify import duties_link, notify
from sprechzimmer.duty.serving import check_may_serve
from sprechzimmer.duty.swaps import void_swaps


def _in_future(duty: Duty) -> None:
    if duty.start <= timezone.now():
        raise DutyError("Dieser Dienst hat bereits begonnen.")


@busy_as_duty_error
def take(duty_id: int, taker: DutyDoctor, *, base_url: str = "") -> Duty:
    """Take an open or offered duty. Two doctors at the same moment: exactly one gets it — the
    taker's row is locked (one take per doctor at a time, for the rest-period check), and the duty
    changes hands only by a conditional UPDATE that the second writer finds no longer matching."""
    with transaction.atomic():
        DutyDoctor.objects.select_for_update().get(pk=taker.pk)
        duty = Duty.objects.select_related("plan__area", "duty_type", "doctor__user").get(
            pk=duty_id, plan__area__kv_id=taker.kv_id, plan__status=Plan.Status.PUBLISHED
        )
        if duty.status == Duty.Status.ASSIGNED:
            raise DutyError("Dieser Dienst ist bereits vergeben.")
        if duty.doctor_id == taker.pk:
            raise DutyError("Das ist Ihr eigener Dienst. Ziehen Sie das Angebot zurück, um ihn zu behalten.")
        _in_future(duty)
        check_may_serve(taker, duty)
        previous = duty.doctor
        won = Duty.objects.filter(pk=duty.pk, status=duty.status, doctor=duty.doctor_id).update(
            status=Duty.Status.ASSIGNED, doctor=taker, substitute=None, pending_substitute=None
        )
        if not won:
            raise DutyError("Diesen Dienst hat gerade jemand anderes übernommen.")
        void_swaps([duty.pk])
        duty.refresh_from_db()
    if previous is not None:
        notify(
            previous,
            f"Ihr Dienst am {duty.local_start:%d.%m.%Y} wurde übernommen",
            f"{taker} hat Ihren angebotenen Dienst ({duty.duty_type.get_kind_display()}, "
            f"{duty.local_start:%d.%m.%Y %H:%M} – {duty.local_end:%d.%m.%Y %H:%M}) übernommen. "
            "Sie sind für diesen Dienst nicht mehr eingeteilt.",
            link=duties_link(base_url),
        )
    return duty


def offer(duty: Duty, doctor: DutyDoctor) -> None:
    """An obliged doctor offers their duty in the exchange; they stay responsible until taken."""
    _own(duty, doctor)
    _in_future(duty)
    if duty.pending_substitute_id or duty.substitute_id:
        raise DutyError("Für diesen Dienst ist eine Vertretung eingetragen oder angefragt.")
    Duty.objects.filter(pk=duty.pk, status=Duty.Status.ASSIGNED, doctor=doctor).update(status=Duty.Status.OFFERED)


def withdraw(duty: Duty, doctor: DutyDoctor) -> None:
    _own(duty, doctor)
    if not Duty.objects.filter(pk=duty.pk, status=Duty.Status.OFFERED, doctor=doctor).update(
        status=Duty.Status.ASSIGNED
    ):
        raise DutyError("Dieser Dienst ist nicht (mehr) angeboten.")


def give_back(duty: Duty, doctor: DutyDoctor) -> None:
    """A K-Arzt returns a duty they took, until the area's deadline before it starts."""
    _own(duty, doctor)
    if not doctor.is_cooperating:
        raise DutyError(
            "Verpflichtete Ärzte bieten ihren Dienst in der Dienstbörse an oder geben ihn an eine Vertretung."
        )
    deadline = duty.start - dt.timedelta(days=duty.plan.area.giveback_days)
    if timezone.now() > deadline:
        raise DutyError(
            f"Die Rückgabe war nur bis {deadline.astimezone(BERLIN):%d.%m.%Y %H:%M} möglich "
            f"({duty.plan.area.giveback_days} Tage vor Dienstbeginn)."
        )
    with transaction.atomic():
        Duty.objects.filter(pk=duty.pk, doctor=doctor).update(
            status=Duty.Status.OPEN, doctor=None, substitute=None, pending_substitute=None
        )
        void_swaps([duty.pk])


def request_handover(duty: Duty, doctor: DutyDoctor, substitute: DutyDoctor, *, base_url: str = "") -> None:
    """Hand a duty to a named substitute (Vertreter), who must accept."""
    _own(duty, doctor)
    _in_future(duty)
    if substitute.pk == doctor.pk:
        raise DutyError("Sie können sich nicht selbst vertreten.")
    if substitute.kv_id != doctor.kv_id:
        raise DutyError("Die Vertretung muss bei derselben KV registriert sein.")
    if duty.status == Duty.Status.OFFERED:
        raise DutyError("Der Dienst ist in der Dienstbörse angeboten. Ziehen Sie das Angebot erst zurück.")
    Duty.objects.filter(pk=duty.pk).update(pending_substitute=substitute)
    notify(
        substitute,
        f"Vertretungsanfrage für den {duty.local_start:%d.%m.%Y}",
        f"{doctor} bittet Sie, den {duty.duty_type.get_kind_display()} am {duty.local_start:%d.%m.%Y} von "
        f"{duty.local_start:%H:%M} bis {duty.local_end:%d.%m.%Y %H:%M} ({duty.duty_type.place}) zu übernehmen. "
        "Abgerechnet wird unter der LANR der vertretenen Person.\n\nBitte nehmen Sie unter „Dienste“ an oder lehnen Sie ab:",
        link=duties_link(base_url),
    )


def answer_handover(duty: Duty, substitute: DutyDoctor, accept: bool, *, base_url: str = "") -> None:
    if duty.pending_substitute_id != substitute.pk:
        raise DutyError("Diese Anfrage gilt nicht (mehr) für Sie.")
    with transaction.atomic():
        if accept:
            _in_future(duty)
            check_may_serve(substitute, duty, ignore={duty.pk})
            Duty.objects.filter(pk=duty.pk, pending_substitute=substitute).update(
                substitute=substitute, pending_substitute=None
            )
        else:
            Duty.objects.filter(pk=duty.pk, pending_substitute=substitute).update(pending_substitute=None)
    verb = "übernimmt" if accept else "übernimmt nicht"
    notify(
        duty.doctor,
        f"Vertretung für den {duty.local_start:%d.%m.%Y}: {substitute} {verb}",
        f"{substitute} {verb} Ihren Dienst am {duty.local_start:%d.%m.%Y %H:%M}."
        + (" Abgerechnet wird weiter unter Ihrer LANR." if accept else " Sie bleiben eingeteilt."),
        link=duties_link(base_url),
    )


def _own(duty: Duty, doctor: DutyDoctor) -> None:
    if duty.doctor_id != doctor.pk or duty.plan.status != Plan.Status.PUBLISHED:
        raise DutyError("Das ist nicht Ihr Dienst.")

"""The front door: the public start page, the legal pages, and where each kind of user lands after
login (a practice's members on the practice's start page, KV staff on their planning, K-Ärzte on
their duties). It may know every app; the apps do not know it."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.urls import reverse

from sprechzimmer.accounts.access import is_practice_member
from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.accounts.views import practice_dashboard
from sprechzimmer.approval.progress import kv_done
from sprechzimmer.duty.models import DutyDoctor
from sprechzimmer.video.models import CallSession


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


def legal(request, page):
    return render(request, f"legal/{page}.html")


def landing(user: User) -> str | None:
    """Where a user without a practice lands after login: KV staff, or a doctor with duties only."""
    organisation = user.organisation
    if organisation is not None and organisation.is_kv:
        return "duty_kv"
    if organisation is None and DutyDoctor.objects.filter(user=user).exists():
        return "duty_mine"
    return None


@dataclass(frozen=True)
class SetupStep:
    """One item of a new practice's setup checklist, ticked from the practice's real state."""

    key: str
    title: str
    hint: str
    url: str
    link: str
    done: bool


def setup_steps(organisation: Organisation) -> list[SetupStep]:
    """What a new practice still has to do before its first real consultation."""
    colleagues = organisation.members.filter(is_active=True).count() > 1
    invited = organisation.invitations.filter(accepted_at=None).exists()
    test_call = CallSession.objects.filter(appointment__organisation=organisation, connected_at__isnull=False).exists()
    return [
        SetupStep(
            "practice",
            "Praxisdaten prüfen",
            "Name und Anschrift erscheinen in jeder Einladung an Ihre Patienten.",
            reverse("practice_settings"),
            "Einstellungen öffnen",
            organisation.details_checked_at is not None,
        ),
        SetupStep(
            "colleagues",
            "Kolleginnen und Kollegen einladen",
            "Eine Einladung ist unterwegs; sie wird abgehakt, sobald jemand beigetreten ist."
            if invited and not colleagues
            else "Ärztinnen, Ärzte und MFA Ihrer Praxis bekommen ein eigenes Konto.",
            reverse("members"),
            "Mitglieder öffnen",
            colleagues,
        ),
        SetupStep(
            "devices",
            "Endgeräte absichern",
            "Legen Sie fest, dass neue Endgeräte erst nach Ihrer Freigabe Praxisdaten sehen.",
            reverse("devices") if organisation.require_device_approval else reverse("practice_settings"),
            "Endgeräte öffnen" if organisation.require_device_approval else "Einstellungen öffnen",
            organisation.require_device_approval,
        ),
        SetupStep(
            "test-call",
            "Einen Testanruf führen",
            "Buchen Sie einen Termin für sich selbst und treten Sie mit dem Smartphone bei.",
            reverse("calendar"),
            "Termine öffnen",
            test_call,
        ),
        SetupStep(
            "kv",
            "Videosprechstunde bei der KV anzeigen",
            "Die Unterlagen für Ihre KV liegen ausgefüllt bereit; tragen Sie ein, wann Sie sie gesendet haben.",
            reverse("approval"),
            "KV-Genehmigung öffnen",
            kv_done(organisation),
        ),
    ]


def dashboard(request):
    if request.user.is_authenticated:
        target = landing(request.user)
        if target:
            return redirect(target)
    if not is_practice_member(request.user):
        return practice_dashboard(request)  # its access rule answers (login or 404)
    steps = setup_steps(request.user.organisation)
    return practice_dashboard(request, {"setup_steps": steps, "setup_open": sum(not s.done for s in steps)})

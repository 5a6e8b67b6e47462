"""The front door: the public start page, the legal pages, and where each kind of user lands after
login (a practice's members on the practice's start page, KV staff on their planning, K-Ärzte on
their duties). It may know every app; the apps do not know it."""

from __future__ import annotations

from django.shortcuts import redirect, render

from sprechzimmer.accounts.models import User
from sprechzimmer.accounts.views import practice_dashboard
from sprechzimmer.duty.models import DutyDoctor


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


def dashboard(request):
    if request.user.is_authenticated:
        target = landing(request.user)
        if target:
            return redirect(target)
    return practice_dashboard(request)

"""API-Zugänge: the main user creates clients with scopes (the token is shown once), sees their
last use and revokes them. Members other than the main user get 404, like the other settings."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer.accounts.access import main_user_required
from sprechzimmer.api.models import SCOPES, ApiClient

MAX_CLIENTS = 20


def _page(request, *, status=200, error="", typed=None, token=""):
    organisation = request.user.organisation
    return render(
        request,
        "api/clients.html",
        {
            "clients": organisation.api_clients.all(),
            "scopes": SCOPES,
            "error": error,
            "typed": typed or {"name": "", "scopes": []},
            "token": token,
        },
        status=status,
    )


@main_user_required
def clients(request):
    if request.method != "POST":
        return _page(request)
    name = request.POST.get("name", "").strip()
    scopes = [s for s in request.POST.getlist("scopes") if s in SCOPES]
    typed = {"name": name, "scopes": scopes}
    if not name or len(name) > 100:
        return _page(
            request, status=400, error="Bitte geben Sie einen Namen mit höchstens 100 Zeichen an.", typed=typed
        )
    if not scopes:
        return _page(request, status=400, error="Bitte wählen Sie mindestens ein Recht.", typed=typed)
    organisation = request.user.organisation
    if organisation.api_clients.filter(revoked_at__isnull=True).count() >= MAX_CLIENTS:
        return _page(request, status=400, error=f"Höchstens {MAX_CLIENTS} aktive API-Zugänge je Praxis.", typed=typed)
    _, token = ApiClient.create(organisation, name, scopes, request.user)
    # Shown once, in this response only (not stored, not in a redirect's URL or a message cookie).
    return _page(request, status=201, token=token)


@main_user_required
@require_POST
def revoke(request, pk):
    client = get_object_or_404(ApiClient, pk=pk, organisation=request.user.organisation)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    messages.success(request, f"Der API-Zugang „{client.name}“ ist gesperrt.")
    return redirect("api_clients")

"""API-Zugänge: the main user creates clients with scopes (the token is shown once), sees their
last use and revokes them; registers webhooks (the secret is shown once) and sees their
deliveries. Members other than the main user get 404, like the other settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.access import json_error, main_user_required
from sprechzimmer.accounts.keyrotation import ROTATED
from sprechzimmer.accounts.models import Organisation
from sprechzimmer.api import webhooks
from sprechzimmer.api.models import EVENTS, SCOPES, ApiClient, Webhook

MAX_CLIENTS = 20
#: Deliveries listed under each webhook (the page shows what happened lately, not an archive).
RECENT_DELIVERIES = 10


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
    if problem := inputs.name_problem(name):
        return _page(request, status=400, error=problem, typed=typed)
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


def _webhooks_page(request, *, status=200, error="", typed=None, secret=""):
    organisation = request.user.organisation
    hooks = list(organisation.webhooks.all())
    for hook in hooks:
        hook.recent = list(hook.deliveries.all()[:RECENT_DELIVERIES])
    return render(
        request,
        "api/webhooks.html",
        {
            "hooks": hooks,
            "events": EVENTS,
            "error": error,
            "typed": typed or {"url": "", "events": []},
            "secret": secret,
            "signature_header": webhooks.SIGNATURE_HEADER,
        },
        status=status,
    )


@main_user_required
def webhook_list(request):
    """Webhooks: address and events; the secret is shown once; recent deliveries with their status."""
    if request.method != "POST":
        return _webhooks_page(request)
    url = request.POST.get("url", "").strip()
    events = [e for e in request.POST.getlist("events") if e in EVENTS]
    typed = {"url": url, "events": events}
    if not events:
        return _webhooks_page(request, status=400, error="Bitte wählen Sie mindestens ein Ereignis.", typed=typed)
    try:
        _, secret = webhooks.register(request.user.organisation, url, events, request.user)
    except webhooks.UrlRefused as refused:
        return _webhooks_page(request, status=400, error=str(refused), typed=typed)
    # Shown once, in this response only (as the API tokens).
    return _webhooks_page(request, status=201, secret=secret)


@main_user_required
@require_POST
def webhook_delete(request, pk):
    hook = get_object_or_404(Webhook, pk=pk, organisation=request.user.organisation)
    hook.delete()
    messages.success(request, f"Der Webhook an {hook.url} ist gelöscht.")
    return redirect("api_webhooks")


@main_user_required
@require_POST
def grant_key(request, pk):
    """The practice key for an encrypting client, wrapped in the main user's browser to the public
    key the page showed (docs/api.md); refused when the client's key changed in between."""
    if not request.user.has_current_practice_key:
        return json_error("Sie haben selbst keinen Zugriff auf den aktuellen Praxisschlüssel.", 403)
    incomplete = "Die Freigabe war unvollständig. Bitte laden Sie die Seite neu."
    try:
        body = inputs.json_body(request)
        expected = body.get("public_key")
        key_version = inputs.parse_int(body.get("key_version", 1), minimum=1, maximum=2**31 - 1)
        wrapped = keyblobs.check_practice_key_wrap(body.get("wrapped_practice_key"))  # type: ignore[arg-type]
    except (inputs.InputError, ValueError, TypeError):
        return json_error(incomplete)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    if not isinstance(expected, str) or key_version is None:
        return json_error(incomplete)
    with transaction.atomic():
        if Organisation.objects.select_for_update().get(pk=request.user.organisation_id).key_version != key_version:
            return json_error(ROTATED, 409)
        client = get_object_or_404(
            ApiClient.objects.select_for_update(),
            pk=pk,
            organisation=request.user.organisation,
            revoked_at__isnull=True,
        )
        if not client.public_key or client.public_key != expected:
            return json_error("Der Schlüssel dieses API-Zugangs hat sich geändert. Bitte laden Sie die Seite neu.", 409)
        client.wrapped_practice_key = wrapped
        client.practice_key_version = key_version
        client.key_granted_by = request.user
        client.save(update_fields=["wrapped_practice_key", "practice_key_version", "key_granted_by"])
    return JsonResponse({"ok": True})

"""The public status page (/status/) and its JSON form (/status.json) for monitoring: the last
result of each component's check by the worker (checks.py), nothing run on request (a visitor
cannot make the server probe anything)."""

from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from sprechzimmer.status.checks import COMPONENTS
from sprechzimmer.status.models import ComponentStatus

#: Older results mean the worker has stopped checking: shown as "unknown", not as up.
STALE_AFTER = dt.timedelta(minutes=5)


def _components() -> list[dict]:
    now = timezone.now()
    rows = {row.name: row for row in ComponentStatus.objects.all()}
    out = []
    for name, label in COMPONENTS.items():
        row = rows.get(name)
        if row is None:
            state = "unknown" if name != "turn" else "not_configured"
        elif now - row.checked_at > STALE_AFTER:
            state = "unknown"
        else:
            state = "up" if row.up else "down"
        out.append({"name": name, "label": label, "state": state, "row": row})
    return out


def page(request):
    components = _components()
    return render(
        request,
        "status/page.html",
        {"components": components, "all_up": all(c["state"] in ("up", "not_configured") for c in components)},
    )


def as_json(request):
    components = _components()
    return JsonResponse(
        {
            "ok": all(c["state"] in ("up", "not_configured") for c in components),
            "components": {
                c["name"]: {
                    "state": c["state"],
                    "checked_at": c["row"].checked_at.isoformat() if c["row"] else None,
                    "since": c["row"].since.isoformat() if c["row"] else None,
                }
                for c in components
            },
        }
    )

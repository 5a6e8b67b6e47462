"""The practice's billing check: upload a quarter file, read the report, export it."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sprechzimmer.accounts.access import json_error, member_required
from sprechzimmer.video.domain import BERLIN
from sprechzimmer.video.models import VideoContact

from . import pdf
from .domain.model import BillingError, Quarter
from .domain.numbers import count_text, decimal_text, euro_text, percent_text, points_text
from .domain.report import findings_csv, findings_line, notices
from .domain.simple import FORMAT
from .models import QuarterReport
from .uploads import UploadRefused, check_upload

CHART_QUARTERS = 8

# Short German names of the rules (docs/ebm.md, R1–R14) for the report's groups and filter.
RULE_TITLES = {
    "R1": "Telefonkontakt neben persönlichem oder Videokontakt",
    "R2": "Telefonische Beratung (01435)",
    "R3": "Abschlag im reinen Videofall",
    "R4": "Zuschlag im reinen Videofall ausgeschlossen",
    "R5": "Zu oft je Behandlungsfall",
    "R6": "Kennzeichen 88220",
    "R7": "Obergrenze reiner Videofälle",
    "R8": "Obergrenze je GOP",
    "R9": "Uhrzeit bei mehreren Kontakten am Tag",
    "R10": "Zu wenige Arzt-Patienten-Kontakte",
    "R11": "Pauschale nicht per Video berechnungsfähig",
    "R12": "Arztgruppe ohne Videosprechstunde",
    "R13": "01452 nur im reinen Videofall",
    "R14": "Altersstufe der Pauschale",
}
SEVERITIES = [("error", "Fehler", "Fehler"), ("warning", "Warnung", "Warnungen"), ("info", "Hinweis", "Hinweise")]


def _rule_key(rule: str) -> tuple[int, str]:
    digits = "".join(ch for ch in rule if ch.isdigit())
    return (int(digits) if digits else 999, rule)


def finding_groups(cases: list[dict]) -> list[dict]:
    """The findings by severity (errors first), then by rule: what to fix first is on top, and the
    notes (Hinweise, mostly for information) come last, folded."""
    groups = []
    for severity, label, plural in SEVERITIES:
        by_rule: dict[str, list[tuple[dict, dict]]] = {}
        for case in cases:
            for finding in case["findings"]:
                if finding["severity"] == severity:
                    by_rule.setdefault(finding["rule"], []).append((case, finding))
        if not by_rule:
            continue
        rules = [
            {"rule": rule, "title": RULE_TITLES.get(rule, ""), "rows": by_rule[rule]}
            for rule in sorted(by_rule, key=_rule_key)
        ]
        groups.append(
            {
                "severity": severity,
                "label": label,
                "plural": plural,
                "count": sum(len(r["rows"]) for r in rules),
                "rules": rules,
                "open": severity != "info",
            }
        )
    return groups


def _reports(organisation):
    return QuarterReport.objects.filter(organisation=organisation)


def _chart(reports: list[QuarterReport]) -> list[dict]:
    """Bars of the video-only share per quarter (oldest first), in a 0–100 coordinate system."""
    bars = []
    for index, report in enumerate(sorted(reports, key=lambda r: (r.year, r.number))[-CHART_QUARTERS:]):
        share = report.share * 100
        bars.append(
            {
                "label": report.quarter_label,
                # SVG geometry: machine numbers as text, so no template localisation can turn
                # 62.5 into "62,5" (an invalid length: the bar had no height and was not drawn).
                "x": 8 + index * 36,
                "height": f"{share:.1f}",
                "y": f"{100 - share:.1f}",
                "share": decimal_text(share, 1),
                "limit_y": None if report.limit is None else f"{100 - float(report.limit) * 100:.1f}",
                "over": report.limit is not None and report.share > float(report.limit),
            }
        )
    return bars


@member_required
def index(request):
    reports = list(_reports(request.user.organisation))
    today = dt.datetime.now(BERLIN).date()
    quarters = [Quarter.of(today).shift(-n) for n in range(0, 8)]
    return render(
        request,
        "billing/index.html",
        {
            "reports": reports,
            "bars": _chart(reports),
            "quarters": quarters,
            "max_mb": settings.EBM_UPLOAD_MAX_BYTES // (1024 * 1024),
            "max_bytes": settings.EBM_UPLOAD_MAX_BYTES,
        },
    )


@member_required
@require_POST
def upload(request):
    try:
        saved = check_upload(
            request.user.organisation, request.FILES.get("file"), request.POST.get("quarter", ""), request.user
        )
    except UploadRefused as exc:
        return json_error(exc.message)
    return JsonResponse({"redirect": reverse("billing_report", args=[saved.pk])})


@member_required
@require_POST
def report_delete(request, pk):
    """Deletes one of the practice's reports (a file checked by mistake); the quarter can be
    checked again any time."""
    saved = _own_report(request, pk)
    label = saved.quarter_label
    saved.delete()
    messages.success(request, f"Der Prüfbericht für Quartal {label} ist gelöscht.")
    return redirect("billing")


def _own_report(request, pk) -> QuarterReport:
    return get_object_or_404(QuarterReport, pk=pk, organisation=request.user.organisation)


@member_required
def report(request, pk):
    saved = _own_report(request, pk)
    data = saved.report
    totals = data["totals"]
    gauges = []
    for cap in data["caps"]:
        share = cap["video_only_cases"] / cap["counted_cases"] if cap["counted_cases"] else 0
        limit = float(cap["limit"]) if cap["limit"] is not None else None
        gauges.append(
            {
                **cap,
                "share_pct": f"{min(share * 100, 100):.1f}",
                "limit_pct": None if limit is None else f"{min(limit * 100, 100):.1f}",
                "limit_text": percent_text(cap["limit"]),
                "over": cap["excess_cases"] > 0,
                "share_text": decimal_text(share * 100, 1),
                "counted_text": count_text(cap["counted_cases"]),
                "video_text": count_text(cap["video_only_cases"]),
                "excess_text": count_text(cap["excess_cases"]),
                "euro_text": euro_text(cap["euro_at_risk"]),
            }
        )
    gop_caps = [
        {
            **c,
            "basis_text": "Punkte" if c["basis"] == "points" else "Anzahl",
            **{f"{k}_text": points_text(c[k]) for k in ("total", "video", "limit", "excess")},
        }
        for c in data["gop_caps"]
    ]
    rows = [(case, finding) for case in data["cases"] for finding in case["findings"]]
    groups = finding_groups(data["cases"])
    summary = {
        "cases": count_text(totals["cases"]),
        "scheine": count_text(totals.get("scheine", totals["cases"])),
        "video_only": count_text(totals["video_only_cases"]),
        "phone_only": count_text(totals["phone_only_cases"]),
        "emergency": count_text(totals["emergency_cases"]),
        "findings": findings_line(totals),
        "euro": euro_text(totals["euro"]),
        "points": points_text(totals["points"]),
    }
    return render(
        request,
        "billing/report.html",
        {
            "saved": saved,
            "data": data,
            "gauges": gauges,
            "gop_caps": gop_caps,
            "rows": rows,
            "groups": groups,
            "rule_options": sorted(
                {(finding["rule"], RULE_TITLES.get(finding["rule"], "")) for _, finding in rows},
                key=lambda item: _rule_key(item[0]),
            ),
            "summary": summary,
            # reports stored before the notices existed get them computed from their totals
            "notices": data.get("notices", notices(totals)),
            "incomplete": bool((totals.get("unchecked_services") or {}).get("count")),
        },
    )


@member_required
def report_csv(request, pk):
    saved = _own_report(request, pk)
    response = HttpResponse(findings_csv(saved.report).encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ebm-431-{saved.year}-Q{saved.number}.csv"'
    return response


@member_required
def report_pdf(request, pk):
    filename, mimetype, content = pdf.render(_own_report(request, pk))
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_required
def video_contacts(request):
    """The quarter's video contacts recorded by the Videosprechstunde, in the simple JSON format.

    One case per appointment: the server cannot tell whether two appointments are the same
    patient (patient data is encrypted in the browser), so the practice merges cases in its PVS."""
    try:
        quarter = Quarter.parse(request.GET.get("quarter", ""))
    except BillingError as exc:
        return json_error(str(exc))
    doc = video_contacts_document(request.user.organisation, quarter)
    response = HttpResponse(json.dumps(doc, ensure_ascii=False, indent=1), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="videokontakte-{quarter.year}-Q{quarter.number}.json"'
    return response


def video_contacts_document(organisation, quarter: Quarter) -> dict:
    """The quarter's video contacts of ``organisation`` in the simple JSON format (also served by
    the API, api/endpoints.py)."""
    start = dt.datetime.combine(quarter.first_day, dt.time(), BERLIN)
    end = dt.datetime.combine(quarter.shift(1).first_day, dt.time(), BERLIN)
    contacts = (
        VideoContact.objects.filter(organisation=organisation, started_at__gte=start, started_at__lt=end)
        .select_related("doctor")
        .order_by("started_at")
    )
    cases: dict[str, dict] = {}
    for contact in contacts:
        key = f"T{contact.appointment_id}" if contact.appointment_id else f"K{contact.pk}"
        local = contact.started_at.astimezone(BERLIN)
        item = cases.setdefault(key, {"case_id": key, "record_type": "0101", "contacts": [], "services": []})
        day, time = local.date().isoformat(), local.strftime("%H:%M")
        lanr = contact.doctor.lanr or None
        item["contacts"].append({"date": day, "time": time, "kind": "video"})
        item["services"].append({"gop": "01450", "date": day, "time": time, "multiplier": 1, "lanr": lanr})
        if contact.egk_checked and not any(s["gop"] == "01444" for s in item["services"]):
            item["services"].append({"gop": "01444", "date": day, "time": time, "multiplier": 1, "lanr": lanr})
    return {
        "format": FORMAT,
        "quarter": str(quarter),
        "bsnr": organisation.bsnr,
        "cases": list(cases.values()),
    }

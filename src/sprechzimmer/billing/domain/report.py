"""Reports of a check: the JSON contract (docs/ebm.md), plain text and CSV.

The JSON is written as a stream, case by case, so a file of a million cases never sits in memory.
Decimals (factor, points, euros, limits, shares) are JSON strings so they stay exact; everything a
person reads (text report, web page, PDF) uses German notation (numbers.py). What the check could
not check comes first: ``notices`` (also in the JSON) says so before any count of findings.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from decimal import Decimal
from typing import Any, TextIO

from .model import CONTACT_LABELS
from .numbers import count_text, decimal_text, euro_text, percent_text, points_text, share_text
from .rules import ERROR, INFO, WARNING, CaseResult, Summary
from .run import CheckRun

#: A report as plain data (JSON-ready: Decimals as strings).
Json = dict[str, Any]

SEVERITY_LABELS = {ERROR: "Fehler", WARNING: "Warnung", INFO: "Hinweis"}

__all__ = [
    "SEVERITY_LABELS",
    "case_dict",
    "euro_text",
    "findings_csv",
    "notices",
    "percent_text",
    "report_dict",
    "summary_dict",
    "write_json",
    "write_text",
]


def factor_text(percent: int) -> str:
    return str((Decimal(percent) / 100).quantize(Decimal("0.01")))


def _points(points_x100: int | None) -> str | None:
    if points_x100 is None:
        return None
    value = Decimal(points_x100) / 100
    return str(value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize())


def case_dict(result: CaseResult) -> Json:
    case = result.case
    scheine = case.scheine
    lanrs = list(dict.fromkeys(line[5] for line in result.lines if line[5]))
    return {
        "case_id": case.case_id,
        "record_type": case.record_type,
        "lanr": case.lanr,
        "lanrs": lanrs,
        "scheine": [{"case_id": s.case_id, "record_type": s.record_type, "line": s.line} for s in scheine],
        "quarter": str(case.quarter) if case.quarter else None,
        "late": result.late,
        "video_only": result.video_only,
        "phone_only": result.phone_only,
        "emergency": case.emergency,
        "unchecked_services": result.unchecked,
        "findings": [f.as_dict() for f in result.findings],
        "lines": [
            {
                "gop": gop,
                "date": date.isoformat(),
                "billed_code": billed,
                "factor": factor_text(factor),
                "points": _points(points),
                "lanr": lanr,
            }
            for gop, date, billed, factor, points, lanr in result.lines
        ],
    }


def notices(totals: Json) -> list[str]:
    """What the check could not check, as German sentences, most important first. A report shows
    these before any count of findings, so "0 Fehler" never stands alone over unknown GOPs."""
    out = []
    provisional = totals.get("orientation_value_provisional")
    if provisional:
        out.append(
            f"Der Orientierungswert für {provisional['for']} ist in dieser Version noch nicht hinterlegt: die "
            f"Euro-Beträge sind vorläufig mit dem Wert für {provisional['from']} "
            f"({decimal_text(totals['orientation_value_ct'], 4)} ct) gerechnet."
        )
    unchecked = totals.get("unchecked_services") or {}
    if unchecked.get("count"):
        out.append(
            f"Prüfung unvollständig: {count_text(unchecked['count'])} von {count_text(unchecked['total'])} "
            f"Leistungen ({share_text(unchecked['count'], unchecked['total'])}) mit unbekannter GOP – für sie "
            "gelten die Befunde nicht; spielen Sie Ihre EBM-Stammdatei ein "
            "(sprechzimmer ebm catalogue import)."
        )
    for item in totals.get("unchecked_scheine", ()):
        out.append(
            f"{count_text(item['count'])} {'Schein' if item['count'] == 1 else 'Scheine'} der Satzart "
            f"{item['record']} ({item['title']}) nicht geprüft (nicht Gegenstand von EBM 4.3.1)."
        )
    for item in totals.get("unknown_records", ()):
        out.append(f"Unbekannte Satzart »{item['record']}« (erstmals in Zeile {item['line']}) nicht gelesen.")
    if totals.get("unpriced_services"):
        out.append(
            f"{count_text(totals['unpriced_services'])} Leistungen ohne belegte Punktzahl: geprüft, aber in "
            "Punkten und Euro nicht enthalten."
        )
    if totals.get("late_cases"):
        out.append(
            f"{count_text(totals['late_cases'])} Behandlungsfälle aus Vorquartalen "
            f"({', '.join(totals.get('late_quarters', ()))}): nach den Regeln ihres Quartals geprüft, nicht "
            "auf die Obergrenzen dieses Quartals angerechnet."
        )
    if totals.get("scattered_scheine"):
        out.append(
            f"{count_text(totals['scattered_scheine'])} Scheine standen weit entfernt von früheren Scheinen "
            "desselben Patienten und wurden getrennt geprüft."
        )
    return out


def summary_dict(summary: Summary) -> Json:
    totals = {**summary.totals, "orientation_value_ct": str(summary.orientation_value_ct)}
    return {
        "notices": notices(totals),
        "caps": [c.as_dict() for c in summary.caps],
        "gop_caps": [g.as_dict() for g in summary.gop_caps],
        "totals": totals,
    }


def head_dict(run: CheckRun) -> Json:
    ruleset = run.ruleset
    return {
        "quarter": str(run.quarter),
        "ruleset": ruleset.id,
        "ruleset_title": ruleset.title,
        "case_cap_unit": ruleset.case_cap_unit,
        "catalogue": run.catalogue.source,
    }


def report_dict(run: CheckRun, *, only_findings: bool = False) -> Json:
    """The whole report in memory (for the web page, whose uploads are small)."""
    cases = [case_dict(result) for result in run.results() if result.findings or not only_findings]
    return {**head_dict(run), "bsnr": run.bsnr, "cases": cases, **summary_dict(run.summary())}


def write_json(run: CheckRun, out: TextIO) -> None:
    results = run.results()
    out.write(json.dumps(head_dict(run), ensure_ascii=False)[:-1] + ', "cases": [')
    separator = "\n"
    for result in results:
        out.write(separator + json.dumps(case_dict(result), ensure_ascii=False))
        separator = ",\n"
    tail = {"bsnr": run.bsnr, **summary_dict(run.summary())}
    out.write("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")


def write_text(run: CheckRun, out: TextIO, *, all_cases: bool = False) -> None:
    """The text report: head, then what could not be checked, then the cases, then the caps and
    totals. The notices are known only at the end, so the case lines wait in a spooled temporary
    file (memory stays flat for files of any size)."""
    results = run.results()
    ruleset = run.ruleset
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8") as cases:
        for result in results:
            if not result.findings and not all_cases:
                continue
            case = result.case
            kinds = sorted({CONTACT_LABELS[c.kind] for c in result.contacts})
            flags = "Videofall" if result.video_only else "Telefonfall" if result.phone_only else ", ".join(kinds)
            extra = (
                (f"; {len(case.scheine)} Scheine" if len(case.scheine) > 1 else "")
                + ("; Notdienst" if case.emergency else "")
                + (f"; Vorquartal {case.quarter}" if result.late else "")
            )
            cases.write(f"Fall {case.case_id} (LANR {case.lanr or '–'}; {flags}{extra})\n")
            for finding in result.findings:
                cases.write(f"  {SEVERITY_LABELS[finding.severity]:8} {finding.rule:5} {finding.message}\n")
        summary = summary_dict(run.summary())
        out.write(f"EBM 4.3.1 – Prüfung Quartal {run.quarter}, Regelversion {ruleset.id} ({ruleset.title})\n")
        for notice in summary["notices"]:
            out.write(f"ACHTUNG: {notice}\n")
        out.write("\n")
        cases.seek(0)
        shutil.copyfileobj(cases, out)
    write_summary_text(summary, out, unit=ruleset.case_cap_unit)


def findings_line(totals: Json) -> str:
    """``3 Fehler, 1 Warnung, 2 Hinweise`` – qualified when the check was incomplete."""
    findings = totals["findings"]
    text = (
        f"{count_text(findings[ERROR])} Fehler, {count_text(findings[WARNING])} "
        f"{'Warnung' if findings[WARNING] == 1 else 'Warnungen'}, {count_text(findings[INFO])} "
        f"{'Hinweis' if findings[INFO] == 1 else 'Hinweise'}"
    )
    if (totals.get("unchecked_services") or {}).get("count"):
        text += " in den geprüften Leistungen (Prüfung unvollständig, siehe oben)"
    return text


def write_summary_text(summary: Json, out: TextIO, *, unit: str) -> None:
    totals = summary["totals"]
    out.write(f"\nObergrenze für Videofälle (R7) je {'Arzt (LANR)' if unit == 'lanr' else 'Praxis (BSNR)'}:\n")
    for cap in summary["caps"]:
        out.write(
            f"  {cap['unit'].upper()} {cap['id']}: {count_text(cap['counted_cases'])} Fälle gezählt, "
            f"{count_text(cap['video_only_cases'])} Videofälle, Grenze {percent_text(cap['limit'])}, "
            f"{count_text(cap['excess_cases'])} darüber, gefährdet {euro_text(cap['euro_at_risk'])}\n"
        )
    for cap in summary["gop_caps"]:
        out.write(
            f"  GOP-Obergrenze (R8) LANR {cap['lanr']} {cap['gop']}: {points_text(cap['video'])} von "
            f"{points_text(cap['total'])} per Video, Grenze {points_text(cap['limit'])}, darüber "
            f"{points_text(cap['excess'])}, gefährdet {euro_text(cap['euro_at_risk'])}\n"
        )
    out.write(
        f"\n{count_text(totals['cases'])} Behandlungsfälle ({count_text(totals.get('scheine', totals['cases']))} "
        f"Scheine), davon {count_text(totals['video_only_cases'])} reine Videofälle, "
        f"{count_text(totals['phone_only_cases'])} reine Telefonfälle, {count_text(totals['emergency_cases'])} "
        f"Notdienstfälle.\n{findings_line(totals)}. {points_text(totals['points'])} Punkte = "
        f"{euro_text(totals['euro'])} (Orientierungswert {decimal_text(totals['orientation_value_ct'], 4)} ct).\n"
    )
    if totals["unknown_gops"]:
        shown = ", ".join(totals["unknown_gops"][:20])
        out.write(
            f"GOPs ohne Stammdaten (nicht geprüft, ohne Punkte): {shown}"
            f"{' …' if len(totals['unknown_gops']) > 20 else ''}\n"
        )


def findings_csv(report: Json) -> str:
    """CSV (semicolon, for German spreadsheets) of every finding of a stored report; the notices of
    what was not checked come first, as rows of their own."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Fall", "Satzart", "LANR", "Videofall", "Telefonfall", "Notdienst", "Regel", "Schwere", "Hinweis"])
    for notice in report.get("notices", ()):
        writer.writerow(["", "", "", "", "", "", "", "Hinweis", notice])
    for case in report["cases"]:
        for finding in case["findings"]:
            writer.writerow(
                [
                    case["case_id"],
                    case["record_type"],
                    case["lanr"] or "",
                    "ja" if case["video_only"] else "nein",
                    "ja" if case["phone_only"] else "nein",
                    "ja" if case["emergency"] else "nein",
                    finding["rule"],
                    SEVERITY_LABELS[finding["severity"]],
                    finding["message"],
                ]
            )
    return buffer.getvalue()

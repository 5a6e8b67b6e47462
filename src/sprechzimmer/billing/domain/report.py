"""Reports of a check: the JSON contract (docs/ebm.md), plain text and CSV.

The JSON is written as a stream, case by case, so a file of a million cases never sits in memory.
Decimals (factor, points, euros, limits) are JSON strings so they stay exact.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from .model import CONTACT_LABELS
from .rules import ERROR, INFO, WARNING, CaseResult, Summary
from .run import CheckRun

SEVERITY_LABELS = {ERROR: "Fehler", WARNING: "Warnung", INFO: "Hinweis"}


def factor_text(percent: int) -> str:
    return str((Decimal(percent) / 100).quantize(Decimal("0.01")))


def points_text(points_x100: int | None) -> str | None:
    if points_x100 is None:
        return None
    value = Decimal(points_x100) / 100
    return str(value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize())


def case_dict(result: CaseResult) -> dict:
    case = result.case
    return {
        "case_id": case.case_id,
        "record_type": case.record_type,
        "lanr": case.lanr,
        "video_only": result.video_only,
        "phone_only": result.phone_only,
        "emergency": case.emergency,
        "findings": [f.as_dict() for f in result.findings],
        "lines": [{"gop": gop, "date": date.isoformat(), "billed_code": billed, "factor": factor_text(factor),
                   "points": points_text(points)} for gop, date, billed, factor, points in result.lines],
    }


def summary_dict(summary: Summary) -> dict:
    return {
        "caps": [c.as_dict() for c in summary.caps],
        "gop_caps": [g.as_dict() for g in summary.gop_caps],
        "totals": {**summary.totals, "orientation_value_ct": str(summary.orientation_value_ct)},
    }


def head_dict(run: CheckRun) -> dict:
    ruleset = run.ruleset
    return {"quarter": str(run.quarter), "ruleset": ruleset.id, "ruleset_title": ruleset.title,
            "case_cap_unit": ruleset.case_cap_unit}


def report_dict(run: CheckRun, *, only_findings: bool = False) -> dict:
    """The whole report in memory (for the web page, whose uploads are small)."""
    cases = [case_dict(result) for result in run.results() if result.findings or not only_findings]
    return {**head_dict(run), "bsnr": run.bsnr, "cases": cases, **summary_dict(run.summary())}


def write_json(run: CheckRun, out) -> None:
    results = run.results()
    out.write(json.dumps(head_dict(run), ensure_ascii=False)[:-1] + ', "cases": [')
    separator = "\n"
    for result in results:
        out.write(separator + json.dumps(case_dict(result), ensure_ascii=False))
        separator = ",\n"
    tail = {"bsnr": run.bsnr, **summary_dict(run.summary())}
    out.write("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")


def euro_text(value: Decimal | str) -> str:
    amount = Decimal(value).quantize(Decimal("0.01"))
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents} €"


def percent_text(limit: str | Decimal | None) -> str:
    if limit is None:
        return "ausgesetzt"
    return f"{(Decimal(limit) * 100).normalize():f} %"


def write_text(run: CheckRun, out, *, all_cases: bool = False) -> None:
    results = run.results()
    ruleset = run.ruleset
    out.write(f"EBM 4.3.1 – Prüfung Quartal {run.quarter}, Regelversion {ruleset.id} ({ruleset.title})\n\n")
    for result in results:
        if not result.findings and not all_cases:
            continue
        case = result.case
        kinds = sorted({CONTACT_LABELS[c.kind] for c in result.contacts})
        flags = "Videofall" if result.video_only else "Telefonfall" if result.phone_only else ", ".join(kinds)
        out.write(f"Fall {case.case_id} (LANR {case.lanr or '–'}; {flags}{'; Notdienst' if case.emergency else ''})\n")
        for finding in result.findings:
            out.write(f"  {SEVERITY_LABELS[finding.severity]:8} {finding.rule:5} {finding.message}\n")
    summary = summary_dict(run.summary())
    write_summary_text(summary, out, unit=ruleset.case_cap_unit)


def write_summary_text(summary: dict, out, *, unit: str) -> None:
    out.write(f"\nObergrenze für Videofälle (R7) je {'Arzt (LANR)' if unit == 'lanr' else 'Praxis (BSNR)'}:\n")
    for cap in summary["caps"]:
        out.write(f"  {cap['unit'].upper()} {cap['id']}: {cap['counted_cases']} Fälle gezählt, "
                  f"{cap['video_only_cases']} Videofälle, Grenze {percent_text(cap['limit'])}, "
                  f"{cap['excess_cases']} darüber, gefährdet {euro_text(cap['euro_at_risk'])}\n")
    for cap in summary["gop_caps"]:
        out.write(f"  GOP-Obergrenze (R8) LANR {cap['lanr']} {cap['gop']}: {cap['video']} von {cap['total']} "
                  f"per Video, Grenze {cap['limit']}, darüber {cap['excess']}, gefährdet "
                  f"{euro_text(cap['euro_at_risk'])}\n")
    totals = summary["totals"]
    findings = totals["findings"]
    out.write(f"\n{totals['cases']} Fälle, davon {totals['video_only_cases']} reine Videofälle, "
              f"{totals['phone_only_cases']} reine Telefonfälle, {totals['emergency_cases']} Notdienstfälle.\n"
              f"{findings[ERROR]} Fehler, {findings[WARNING]} Warnungen, {findings[INFO]} Hinweise. "
              f"{totals['points']} Punkte = {euro_text(totals['euro'])} "
              f"(Orientierungswert {totals['orientation_value_ct']} ct).\n")
    if totals["unknown_gops"]:
        shown = ", ".join(totals["unknown_gops"][:20])
        out.write(f"GOPs ohne Stammdaten (ohne Punkte gezählt): {shown}"
                  f"{' …' if len(totals['unknown_gops']) > 20 else ''}\n")


def findings_csv(report: dict) -> str:
    """CSV (semicolon, for German spreadsheets) of every finding of a stored report."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Fall", "Satzart", "LANR", "Videofall", "Telefonfall", "Notdienst", "Regel", "Schwere", "Hinweis"])
    for case in report["cases"]:
        for finding in case["findings"]:
            writer.writerow([case["case_id"], case["record_type"], case["lanr"] or "",
                             "ja" if case["video_only"] else "nein", "ja" if case["phone_only"] else "nein",
                             "ja" if case["emergency"] else "nein", finding["rule"],
                             SEVERITY_LABELS[finding["severity"]], finding["message"]])
    return buffer.getvalue()

"""PDF of a stored quarter report (reportlab). ``render(report) -> (filename, mimetype, bytes)``."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from sprechzimmer.pdf import bold, document, grid_table, para

from .domain.numbers import count_text, decimal_text, euro_text, percent_text, points_text
from .domain.report import SEVERITY_LABELS, findings_line, notices
from .models import QuarterReport


def render(report: QuarterReport) -> tuple[str, str, bytes]:
    data = report.report
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = document(
        buffer,
        title=f"EBM 4.3.1 – Quartal {report.quarter_label}",
        author="Sprechzimmer",
        pagesize=landscape(A4),
        side=15 * mm,
        vertical=15 * mm,
    )
    story = [
        para(styles["Title"], f"Prüfung der Video- und Telefonkontakte (EBM 4.3.1) – Quartal {report.quarter_label}"),
        para(
            styles["BodyText"],
            f"{report.organisation.name}, BSNR {report.organisation.bsnr} · Regelversion "
            f"{data['ruleset']} ({data.get('ruleset_title', '')}) · Datei {report.filename}",
        ),
        Spacer(1, 4 * mm),
    ]
    totals = data["totals"]
    for notice in data.get("notices", notices(totals)):
        story.append(para(styles["BodyText"], bold(notice)))
    story.append(
        para(
            styles["BodyText"],
            f"{count_text(totals['cases'])} Behandlungsfälle, {count_text(totals['video_only_cases'])} reine Videofälle, "
            f"{count_text(totals['phone_only_cases'])} reine Telefonfälle, {count_text(totals['emergency_cases'])} "
            f"Notdienstfälle · {findings_line(totals)} · {points_text(totals['points'])} Punkte = "
            f"{euro_text(totals['euro'])} (Orientierungswert {decimal_text(totals['orientation_value_ct'], 4)} ct)",
        )
    )
    story.append(Spacer(1, 4 * mm))
    caps = [["Einheit", "Nummer", "gezählte Fälle", "Videofälle", "Grenze", "Fälle darüber", "gefährdet"]]
    for cap in data["caps"]:
        caps.append(
            [
                cap["unit"].upper(),
                cap["id"],
                count_text(cap["counted_cases"]),
                count_text(cap["video_only_cases"]),
                percent_text(cap["limit"]),
                count_text(cap["excess_cases"]),
                euro_text(cap["euro_at_risk"]),
            ]
        )
    story += [para(styles["Heading2"], "Obergrenze für Videofälle (R7)"), grid_table(caps, [30 * mm] * 7)]
    rows = [["Fall", "LANR", "Regel", "Schwere", "Hinweis"]]
    for case in data["cases"]:
        for finding in case["findings"]:
            rows.append(
                [
                    case["case_id"],
                    case["lanr"] or "–",
                    finding["rule"],
                    SEVERITY_LABELS[finding["severity"]],
                    para(small, finding["message"]),
                ]
            )
    story += [para(styles["Heading2"], "Befunde")]
    story.append(
        grid_table(rows, [25 * mm, 25 * mm, 15 * mm, 20 * mm, 180 * mm])
        if len(rows) > 1
        else para(styles["BodyText"], "Keine Befunde.")
    )
    doc.build(story)
    return f"ebm-431-{report.year}-Q{report.number}.pdf", "application/pdf", buffer.getvalue()

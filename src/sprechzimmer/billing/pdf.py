"""PDF of a stored quarter report (reportlab). ``render(report) -> (filename, mimetype, bytes)``."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from sprechzimmer.pdftable import grid_table

from .domain.numbers import count_text, euro_text, percent_text, points_text
from .domain.report import SEVERITY_LABELS, findings_line, notices
from .models import QuarterReport


def render(report: QuarterReport) -> tuple[str, str, bytes]:
    data = report.report
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"EBM 4.3.1 – Quartal {report.quarter_label}", author="Sprechzimmer")
    story = [
        Paragraph(f"Prüfung der Video- und Telefonkontakte (EBM 4.3.1) – Quartal {report.quarter_label}",
                  styles["Title"]),
        Paragraph(f"{report.organisation.name}, BSNR {report.organisation.bsnr} · Regelversion {data['ruleset']} "
                  f"({data.get('ruleset_title', '')}) · Datei {report.filename}", styles["BodyText"]),
        Spacer(1, 4 * mm),
    ]
    totals = data["totals"]
    for notice in data.get("notices", notices(totals)):
        story.append(Paragraph(f"<b>{notice}</b>", styles["BodyText"]))
    story.append(Paragraph(
        f"{count_text(totals['cases'])} Behandlungsfälle, {count_text(totals['video_only_cases'])} reine Videofälle, "
        f"{count_text(totals['phone_only_cases'])} reine Telefonfälle, {count_text(totals['emergency_cases'])} "
        f"Notdienstfälle · {findings_line(totals)} · {points_text(totals['points'])} Punkte = "
        f"{euro_text(totals['euro'])} (Orientierungswert {totals['orientation_value_ct'].replace('.', ',')} ct)",
        styles["BodyText"]))
    story.append(Spacer(1, 4 * mm))
    caps = [["Einheit", "Nummer", "gezählte Fälle", "Videofälle", "Grenze", "Fälle darüber", "gefährdet"]]
    for cap in data["caps"]:
        caps.append([cap["unit"].upper(), cap["id"], count_text(cap["counted_cases"]), count_text(cap["video_only_cases"]),
                     percent_text(cap["limit"]), count_text(cap["excess_cases"]), euro_text(cap["euro_at_risk"])])
    story += [Paragraph("Obergrenze für Videofälle (R7)", styles["Heading2"]), grid_table(caps, [30 * mm] * 7)]
    rows = [["Fall", "LANR", "Regel", "Schwere", "Hinweis"]]
    for case in data["cases"]:
        for finding in case["findings"]:
            rows.append([case["case_id"], case["lanr"] or "–", finding["rule"], SEVERITY_LABELS[finding["severity"]],
                         Paragraph(finding["message"], small)])
    story += [Paragraph("Befunde", styles["Heading2"])]
    story.append(grid_table(rows, [25 * mm, 25 * mm, 15 * mm, 20 * mm, 180 * mm]) if len(rows) > 1
                 else Paragraph("Keine Befunde.", styles["BodyText"]))
    doc.build(story)
    return f"ebm-431-{report.year}-Q{report.number}.pdf", "application/pdf", buffer.getvalue()

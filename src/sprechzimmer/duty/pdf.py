"""PDF of a K-Arzt's monthly pay statement (reportlab). ``render(...) -> (filename, mimetype, bytes)``."""

from __future__ import annotations

import io

from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from sprechzimmer.core import formats
from sprechzimmer.duty.domain.pay import MonthlyStatement
from sprechzimmer.pdf import bold, document, grid_table, para


def render(doctor, kv_name: str, statement: MonthlyStatement) -> tuple[str, str, bytes]:
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    label = formats.month(statement.year, statement.month)
    doc = document(buffer, title=f"Vergütungsabrechnung {label}", author=kv_name, side=18 * mm)
    body = styles["BodyText"]
    story = [
        para(styles["Title"], f"Vergütungsabrechnung Bereitschaftsdienst – {label}"),
        para(body, f"{doctor} · LANR {doctor.lanr} · Kooperationsarzt der {kv_name}"),
        para(body, f"Auszahlung am {statement.pay_date:%d.%m.%Y}"),
        Spacer(1, 5 * mm),
    ]
    rows = [["Datum", "Beginn", "Dienstart", "Ort", "Stunden", "Satz", "Betrag"]]
    for line in statement.lines:
        duty = line.duty
        rows.append(
            [
                f"{duty.start:%d.%m.%Y}",
                f"{duty.start:%H:%M}",
                duty.duty_type,
                para(body, duty.place),
                formats.number(duty.hours, -2),
                formats.euro(line.rate),
                formats.euro(line.amount),
            ]
        )
    rows.append(["", "", "", "Summe", formats.number(statement.hours, -2), "", formats.euro(statement.gross)])
    story.append(_grid(rows, [22 * mm, 16 * mm, 24 * mm, 50 * mm, 17 * mm, 20 * mm, 25 * mm]))
    if statement.missed:
        story += [Spacer(1, 4 * mm), para(styles["Heading3"], "Abzüge")]
        missed = [["Datum", "Ort", "Grund", "Betrag"]]
        for item, fee in statement.missed:
            missed.append(
                [
                    f"{item.day:%d.%m.%Y}",
                    para(body, item.place),
                    "Nichtantritt ohne Vertretung (Aufwendungsersatz)",
                    "−" + formats.euro(fee),
                ]
            )
        story.append(_grid(missed, [22 * mm, 50 * mm, 80 * mm, 25 * mm]))
    story += [
        Spacer(1, 5 * mm),
        para(
            body,
            f"Bruttovergütung {formats.euro(statement.gross)} · Abzüge {formats.euro(statement.deductions)} · ",
            bold(f"Auszahlungsbetrag {formats.euro(statement.payout)}"),
        ),
        Spacer(1, 3 * mm),
        para(body, statement.note),
    ]
    doc.build(story)
    return f"abrechnung-{statement.year}-{statement.month:02d}.pdf", "application/pdf", buffer.getvalue()


def _grid(rows, widths):
    return grid_table(rows, widths, font_size=9)

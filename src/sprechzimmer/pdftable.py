"""The table style shared by our reportlab PDFs (billing report, pay statements)."""

from reportlab.lib import colors
from reportlab.platypus import Table, TableStyle


def grid_table(rows, widths, font_size: int = 8) -> Table:
    """A table with a bold, shaded header row repeated on every page and thin grey lines."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", font_size), ("FONT", (0, 1), (-1, -1), "Helvetica", font_size),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table

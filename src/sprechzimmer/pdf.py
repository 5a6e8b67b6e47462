"""The one path to every PDF we make (reportlab): user text is escaped, reportlab fetches nothing.

reportlab's ``Paragraph`` reads its text as markup: ``<img src="http://…">`` in a practice name
would make the server fetch that URL (or read a local file) and embed it, and a lone ``<`` raises.
So nothing outside this module builds a ``Paragraph``: ``para()`` escapes every part it is given
unless the part is ``Markup`` written by us (``bold()``). Table cells that are plain strings are
drawn as text, not parsed, and stay safe. As a second wall, reportlab is configured to trust no
URL scheme or host (``rl_config``), before its resource opener is first used.

PDF renderers keep one interface: ``render(...) -> (filename, mimetype, bytes)``.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

# No scheme and no host is trusted: any URL in markup fails instead of being fetched.
rl_config.trustedSchemes = []
rl_config.trustedHosts = ["trusts-nothing.invalid"]


class Markup(str):
    """Paragraph markup written in our code; never made from user text."""


def text(value) -> str:
    """A value as Paragraph text: markup of ours as it is, anything else escaped."""
    return value if isinstance(value, Markup) else escape(str(value))


def bold(*parts) -> Markup:
    return Markup("<b>" + "".join(text(p) for p in parts) + "</b>")


def para(style, *parts) -> Paragraph:
    """A paragraph of the given parts; user text among them is shown literally."""
    return Paragraph("".join(text(p) for p in parts), style)


def grid_table(rows, widths, font_size: int = 8) -> Table:
    """A table with a bold, shaded header row repeated on every page and thin grey lines."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", font_size),
                ("FONT", (0, 1), (-1, -1), "Helvetica", font_size),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def document(buffer, *, title: str, author: str, pagesize=A4, side: float = 20 * mm, vertical: float = 18 * mm, **info):
    """The page every PDF of ours is drawn on: A4 (or ``pagesize``), our margins, title and author
    in the document information; ``info`` passes further metadata (subject, keywords, lang …)."""
    return SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=side,
        rightMargin=side,
        topMargin=vertical,
        bottomMargin=vertical,
        title=title,
        author=author,
        **info,
    )

"""Every PDF takes user text literally (issue 11, item 7): reportlab markup in a practice name, a
K-Arzt's name, a place or a file name is printed as text, never interpreted; no URL is fetched and a
lone "<" is no 500. And no code outside sprechzimmer/pdf.py builds a reportlab Paragraph."""

import datetime as dt
import http.server
import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sprechzimmer import pdf
from sprechzimmer.billing import pdf as billing_pdf
from sprechzimmer.billing.models import QuarterReport
from sprechzimmer.duty import pdf as duty_pdf
from sprechzimmer.duty.domain.calendar import BERLIN
from sprechzimmer.duty.domain.pay import MissedDuty, ServedDuty, monthly_statement
from tests import factories
from tests.billing.builders import case, kvdt_bytes
from tests.duty.helpers import pdf_lines


@pytest.fixture
def web_server():
    """A local HTTP server that counts the requests a PDF renderer would make to it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def hostile(url: str, label: str) -> str:
    return f'{label} <img src="{url}/{label}.png" width="20" height="20"/> & <b>fett</b> 1 < 2'


def test_para_escapes_user_text_and_keeps_our_markup():
    assert pdf.text('<img src="x"/> & <') == '&lt;img src="x"/&gt; &amp; &lt;'
    assert pdf.text(pdf.bold("a<b")) == "<b>a&lt;b</b>"


def test_reportlab_fetches_nothing_even_from_markup_of_ours(web_server, tmp_path):
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import SimpleDocTemplate

    url, hits = web_server
    with pytest.raises(OSError, match="Cannot open resource"):
        story = [
            pdf.para(getSampleStyleSheet()["BodyText"], pdf.Markup(f'<img src="{url}/x.png" width="5" height="5"/>'))
        ]
        SimpleDocTemplate(str(tmp_path / "x.pdf")).build(story)
    assert hits == []


@pytest.mark.django_db
def test_billing_report_pdf_prints_markup_literally(client, web_server):
    url, hits = web_server
    practice = factories.practice(hostile(url, "praxis"))
    doctor = factories.member(practice, main=True)
    client.force_login(doctor)
    client.get(reverse("dashboard"))
    name = 'Z01521234500_01.10.2024_<img src="x">.con'
    response = client.post(
        reverse("billing_upload"),
        {"file": SimpleUploadedFile(name, kvdt_bytes([case((2, ["03000", "01450"]), case_id="V1")])), "quarter": ""},
    )
    assert response.status_code == 200, response.content
    report = QuarterReport.objects.get(organisation=practice)
    response = client.get(reverse("billing_report_pdf", args=[report.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_lines(response.content)
    assert "praxis <img src=" in text and "1 < 2" in text and "<b>fett</b>" in text
    assert hits == []
    # The renderer itself, straight: the same.
    assert billing_pdf.render(report)[2].startswith(b"%PDF") and hits == []


def test_pay_statement_pdf_prints_markup_literally(web_server):
    url, hits = web_server
    place = hostile(url, "ort")
    start = dt.datetime(2026, 10, 5, 18, tzinfo=BERLIN)
    statement = monthly_statement(
        2026, 10, [ServedDuty(start, "Sitzdienst", place, Decimal(14))], [MissedDuty(dt.date(2026, 10, 9), place)]
    )

    class Doctor:
        lanr = "838382297"

        def __str__(self):
            return hostile(url, "arzt")

    _, mimetype, data = duty_pdf.render(Doctor(), hostile(url, "kv"), statement)
    text = pdf_lines(data)
    assert mimetype == "application/pdf"
    for label in ("arzt", "kv", "ort"):
        assert f'{label} <img src="{url}/{label}.png"' in text
    assert hits == []


def test_no_paragraph_is_built_outside_the_one_escaping_path():
    root = Path(__file__).resolve().parent.parent / "src" / "sprechzimmer"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "pdf.py" or p.parent != root
        if re.search(r"\bParagraph\(|platypus import .*\bParagraph\b", p.read_text())
    ]
    assert offenders == []

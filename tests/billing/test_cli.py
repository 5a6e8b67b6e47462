"""``sprechzimmer ebm check`` and ``… catalogue import`` as a user runs them: real subprocesses of the
console script."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sprechzimmer.billing.domain.model import Quarter
from sprechzimmer.billing.domain.simple import FORMAT

from .builders import LANR, case, kvdt_bytes


def sprechzimmer(*args, stdin=None, data_dir=None):
    exe = shutil.which("sprechzimmer", path=str(Path(sys.executable).parent))
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(data_dir or "/nonexistent-data-dir")}
    return subprocess.run([exe, "ebm", *args], capture_output=True, text=True, input=stdin, env=env, timeout=60)


def run(*args, stdin=None, data_dir=None):
    return sprechzimmer("check", *args, stdin=stdin, data_dir=data_dir)


@pytest.fixture
def con_file(tmp_path):
    cases = [
        case((2, ["03003", "03040", "01450"]), case_id="V1"),
        case((3, ["03003"]), case_id="P1"),
        case((4, ["01435"]), case_id="T1"),
        case((4, ["01210", "01450", "88220"]), case_id="N1", record_type="0104", subgroup="41"),
    ]
    path = tmp_path / "Z01521234500_01.10.2024_10.00.con"
    path.write_bytes(kvdt_bytes(cases))
    return path


def test_json_contract(con_file):
    result = run(str(con_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["quarter"], report["ruleset"]) == ("3/2024", "4.3.1-2022Q3")
    v1, p1, t1, n1 = report["cases"]
    assert set(v1) == {
        "case_id",
        "record_type",
        "lanr",
        "lanrs",
        "scheine",
        "quarter",
        "late",
        "video_only",
        "phone_only",
        "emergency",
        "unchecked_services",
        "findings",
        "lines",
    }
    assert v1["video_only"] and v1["lanr"] == LANR and v1["scheine"][0]["record_type"] == "0101"
    assert {"rule": "R6", "severity": "error"}.items() <= v1["findings"][0].items()
    assert v1["lines"][0] == {
        "gop": "03003",
        "date": "2024-07-02",
        "billed_code": "03003V",
        "factor": "0.80",
        "points": "91.2",
        "lanr": LANR,
    }
    assert t1["phone_only"] and n1["emergency"] and not p1["findings"]
    (cap,) = report["caps"]
    assert cap == {
        "unit": "lanr",
        "id": LANR,
        "counted_cases": 3,
        "video_only_cases": 1,
        "limit": "0.3",
        "excess_cases": 1,
        "euro_at_risk": cap["euro_at_risk"],
    }
    assert report["totals"]["cases"] == 4
    assert report["totals"]["unchecked_services"] == {"count": 0, "total": 8, "share": "0.0000"}


def test_quarter_option_overrides_the_file(con_file):
    report = json.loads(run(str(con_file), "--format", "json", "--quarter", "2/2025").stdout)
    assert report["ruleset"] == "4.3.1-2025Q2" and report["caps"][0]["unit"] == "bsnr"


def test_text_report(con_file):
    result = run(str(con_file))
    assert result.returncode == 0
    assert "Fall V1" in result.stdout and "88220 ergänzen" in result.stdout and "Obergrenze" in result.stdout
    assert "Prüfung unvollständig" not in result.stdout  # every GOP is known


def test_unknown_gops_are_reported_first_with_their_share_in_german_notation(tmp_path):
    cases = [case((2, ["03003", "98765"]), case_id=f"F{i}") for i in range(600)]
    cases.append(case((3, ["03003", "12345", "12345"]), case_id="X", record_type="0104", subgroup="41"))
    path = tmp_path / "q.con"
    path.write_bytes(kvdt_bytes(cases))
    text = run(str(path)).stdout
    head = text.splitlines()[1]
    assert (
        head == "ACHTUNG: Prüfung unvollständig: 602 von 1.203 Leistungen (50\u00a0%) mit unbekannter GOP – "
        "für sie gelten die Befunde nicht; spielen Sie Ihre EBM-Stammdatei ein (sprechzimmer ebm catalogue import)."
    )
    assert "0 Fehler, 0 Warnungen, 0 Hinweise in den geprüften Leistungen (Prüfung unvollständig" in text
    report = json.loads(run(str(path), "--format", "json").stdout)
    assert report["totals"]["unchecked_services"] == {"count": 602, "total": 1203, "share": "0.5004"}
    assert report["notices"][0].startswith("Prüfung unvollständig: 602 von 1.203 Leistungen")


def test_simple_json_format_from_stdin():
    doc = {
        "format": FORMAT,
        "quarter": "2/2025",
        "bsnr": "521234500",
        "cases": [
            {
                "case_id": "A",
                "contacts": [{"date": "2025-04-02", "kind": "video"}],
                "services": [
                    {"gop": "03003", "date": "2025-04-02", "lanr": LANR},
                    {"gop": "88220", "date": "2025-04-02"},
                ],
            },
            {
                "case_id": "B",
                "contacts": [{"date": "2025-04-03", "kind": "telephone"}],
                "services": [{"gop": "01435", "date": "2025-04-03"}],
            },
            {
                "case_id": "C1",
                "patient": "P-9",
                "age": 8,
                "contacts": [{"date": "2025-04-04", "kind": "telephone"}],
                "services": [{"gop": "01435", "date": "2025-04-04", "lanr": LANR}],
            },
            {
                "case_id": "C2",
                "patient": "P-9",
                "age": 8,
                "contacts": [{"date": "2025-05-04", "kind": "telephone"}],
                "services": [{"gop": "01435", "date": "2025-05-04", "lanr": LANR}],
            },
        ],
    }
    result = run("-", "--format", "json", stdin=json.dumps(doc))
    report = json.loads(result.stdout)
    a, b, c = report["cases"]
    assert a["video_only"] and not a["findings"][1:] and a["lines"][0]["factor"] == "0.80"
    assert b["phone_only"] and not b["findings"]
    assert c["case_id"] == "C1 + C2" and not c["findings"]  # one Behandlungsfall; 01435 twice for a child
    assert report["caps"][0]["unit"] == "bsnr" and report["caps"][0]["limit"] == "0.5"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe0\x001\x00", "UTF-16"),
        (b"\xef\xbb\xbf0138000con0\r\n", "UTF-8-kodiert"),
        (b"0138000con0\r\n0148000besa\r\n", "Zeile 2, Feld 8000 (Satzart): Längenangabe 14"),
        (b'{"format": "x"}', "kein Fallformat"),
        (b"Hallo", "weder eine KVDT-Datei"),
    ],
)
def test_unreadable_files_give_one_german_line_and_no_traceback(tmp_path, content, message):
    path = tmp_path / "input.con"
    path.write_bytes(content)
    result = run(str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and result.stderr.startswith("Fehler: ")


def test_missing_file_and_bad_quarter():
    assert "kann nicht gelesen werden" in run("/nonexistent.con").stderr
    result = run("/nonexistent.con", "--quarter", "5/2024")
    assert result.returncode == 2 and "ist kein Quartal" in result.stderr


def test_quarter_without_rules():
    data = kvdt_bytes([case((2, ["03003"]), quarter=Quarter(2018, 1))], quarter=Quarter(2018, 1))
    result = run("-", stdin=data.decode("iso8859_15"))
    assert result.returncode == 2 and "keine Regelversion" in result.stderr


# -- the KBV's EBM-Stammdatei ------------------------------------------------------------------------
def stammdatei(*gnrs: str) -> bytes:
    """A small EBM-Stammdatei in the structure of the KBV's Datensatzbeschreibung SDEBM v1.61:
    /ehd/header, /ehd/body/gnr_liste/gnr with allgemein/gueltigkeit, legende, bewertung_liste."""
    return (
        """<?xml version="1.0" encoding="ISO-8859-15"?>
<ehd xmlns="urn:ehd/001" xmlns:go="urn:ehd/go/001" ehd_version="1.40">
  <header><document_type_cd V="SDEBM"/><interface><version V="1.61"/></interface></header>
  <body><go:gnr_liste>"""
        + "".join(gnrs)
        + """</go:gnr_liste></body>
</ehd>"""
    ).encode("iso8859_15")


def gnr(code, points, title, chapter, valid="2013-10-01..", effective="2025-01-01.."):
    return f"""
    <go:gnr V="{code}" USE="74" USE-DOMAIN="1.2.276.0.76.5.233" VT="2024-11-15">
      <go:allgemein>
        <go:gueltigkeit><go:service_tmr V="{valid}"/><go:effective_tmr V="{effective}"/></go:gueltigkeit>
        <go:legende>
          <go:kap_bez V="III.{chapter}" DN="Kapitel"><go:bereich V="III" DN="Arztgruppenspezifische Leistungen"/>
            <go:kapitel V="{chapter}" DN="Kapitel {chapter}"/></go:kap_bez>
          <go:kurztext V="{title}"/>
        </go:legende>
        <go:bewertung_liste><go:bewertung V="{points}" U="Punkte" U-DOMAIN="1.2.276.0.76.5.236"/></go:bewertung_liste>
      </go:allgemein>
    </go:gnr>"""


def test_catalogue_import_of_the_ebm_stammdatei_is_used_by_later_checks(tmp_path):
    xml = tmp_path / "sdebm.xml"
    xml.write_bytes(
        stammdatei(
            gnr("03001", 243, "Versichertenpauschale bis 4. Lebensjahr", "3"),
            gnr("32025", 17, "Glukose", "32"),
            gnr("01452", 30, "Zuschlag bekannte Patienten", "1", valid="2025-04-01..", effective="2025-04-01.."),
        )
    )
    con = tmp_path / "q.con"
    q = Quarter(2025, 2)
    con.write_bytes(kvdt_bytes([case((2, ["03001", "32025"]), quarter=q)], quarter=q))
    before = json.loads(run(str(con), "--format", "json", data_dir=tmp_path).stdout)
    assert before["totals"]["unknown_gops"] == ["32025"] and before["cases"][0]["lines"][0]["points"] is None

    result = sprechzimmer("catalogue", "import", str(xml), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 GOP (2 mit unseren Regeldaten ergänzt, 1 neu" in result.stdout
    assert (tmp_path / "ebm" / "gop.csv").exists()
    after = json.loads(run(str(con), "--format", "json", data_dir=tmp_path).stdout)
    assert after["totals"]["unknown_gops"] == [] and after["totals"]["unchecked_services"]["count"] == 0
    assert after["cases"][0]["lines"][0]["points"] == "243" and after["catalogue"].endswith("ebm/gop.csv")
    # the rule facts of our data stay: 03001 is still the Versichertenpauschale with its video deduction
    video = tmp_path / "v.con"
    video.write_bytes(kvdt_bytes([case((2, ["03001", "01450", "88220"]), quarter=q)], quarter=q))
    line = json.loads(run(str(video), "--format", "json", data_dir=tmp_path).stdout)["cases"][0]["lines"][0]
    assert (line["billed_code"], line["factor"], line["points"]) == ("03001V", "0.80", "194.4")
    assert "ebm/gop.csv" in sprechzimmer("catalogue", "show", data_dir=tmp_path).stdout
    sprechzimmer("catalogue", "reset", data_dir=tmp_path)
    assert json.loads(run(str(con), "--format", "json", data_dir=tmp_path).stdout)["totals"]["unknown_gops"] == [
        "32025"
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"<ehd><body></body></ehd>", "keine GOP"),
        (b"<ehd><body><gnr_liste><gnr V='0300", "kein gültiges XML"),
    ],
)
def test_a_file_that_is_no_stammdatei_is_refused(tmp_path, content, message):
    xml = tmp_path / "x.xml"
    xml.write_bytes(content)
    result = sprechzimmer("catalogue", "import", str(xml), data_dir=tmp_path)
    assert result.returncode == 2 and message in result.stderr and not (tmp_path / "ebm" / "gop.csv").exists()


def test_a_year_without_its_orientierungswert_is_checked_and_its_euros_called_provisional(tmp_path):
    """A file of a year whose Orientierungswert this version does not know yet (the Bewertungsausschuss
    sets it in the autumn before) is still checked; the euros use the newest value known and the
    report says so first."""
    q1_2027 = Quarter(2027, 1)
    path = tmp_path / "q.con"
    path.write_bytes(kvdt_bytes([case((2, ["03003"]), quarter=q1_2027)], quarter=q1_2027))
    report = json.loads(run(str(path), "--format", "json").stdout)
    assert report["totals"]["orientation_value_provisional"] == {"for": 2027, "from": 2026}
    assert report["totals"]["orientation_value_ct"] == "12.7404"
    assert report["notices"][0] == (
        "Der Orientierungswert für 2027 ist in dieser Version noch nicht hinterlegt: die Euro-Beträge sind "
        "vorläufig mit dem Wert für 2026 (12,7404 ct) gerechnet."
    )
    text = run(str(path)).stdout
    assert "vorläufig mit dem Wert für 2026" in text.splitlines()[1]
    known = tmp_path / "q2026.con"
    q4_2026 = Quarter(2026, 4)
    known.write_bytes(kvdt_bytes([case((2, ["03003"]), quarter=q4_2026)], quarter=q4_2026))
    assert "orientation_value_provisional" not in json.loads(run(str(known), "--format", "json").stdout)["totals"]

"""``sprechzimmer ebm check`` as a user runs it: a real subprocess of the console script."""

import json
import shutil
import subprocess
import sys

import pytest

from sprechzimmer.billing.domain.model import Quarter
from sprechzimmer.billing.domain.simple import FORMAT

from .builders import LANR, case, kvdt_bytes


def run(*args, stdin=None):
    exe = shutil.which("sprechzimmer", path=str(__import__("pathlib").Path(sys.executable).parent))
    return subprocess.run([exe, "ebm", "check", *args], capture_output=True, text=True, input=stdin,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60)


@pytest.fixture
def con_file(tmp_path):
    cases = [case((2, ["03000", "03040", "01450"]), case_id="V1"), case((3, ["03000"]), case_id="P1"),
             case((4, ["01435"]), case_id="T1"), case((4, ["01210", "01450", "88220"]), case_id="N1",
                                                      record_type="0104", subgroup="41")]
    path = tmp_path / "Z01521234500_01.10.2024_10.00.con"
    path.write_bytes(kvdt_bytes(cases))
    return path


def test_json_contract(con_file):
    result = run(str(con_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["quarter"], report["ruleset"]) == ("3/2024", "4.3.1-2022Q2")
    v1, p1, t1, n1 = report["cases"]
    assert set(v1) == {"case_id", "record_type", "lanr", "video_only", "phone_only", "emergency", "findings", "lines"}
    assert v1["video_only"] and v1["lanr"] == LANR
    assert {"rule": "R6", "severity": "error"}.items() <= v1["findings"][0].items()
    assert v1["lines"][0] == {"gop": "03000", "date": "2024-07-02", "billed_code": "03000V", "factor": "0.80",
                              "points": "120"}
    assert t1["phone_only"] and n1["emergency"] and not p1["findings"]
    (cap,) = report["caps"]
    assert cap == {"unit": "lanr", "id": LANR, "counted_cases": 3, "video_only_cases": 1, "limit": "0.3",
                   "excess_cases": 1, "euro_at_risk": cap["euro_at_risk"]}
    assert report["totals"]["cases"] == 4


def test_quarter_option_overrides_the_file(con_file):
    report = json.loads(run(str(con_file), "--format", "json", "--quarter", "2/2025").stdout)
    assert report["ruleset"] == "4.3.1-2025Q2" and report["caps"][0]["unit"] == "bsnr"


def test_text_report(con_file):
    result = run(str(con_file))
    assert result.returncode == 0
    assert "Fall V1" in result.stdout and "88220 ergänzen" in result.stdout and "Obergrenze" in result.stdout


def test_simple_json_format_from_stdin():
    doc = {"format": FORMAT, "quarter": "2/2025", "bsnr": "521234500", "cases": [
        {"case_id": "A", "contacts": [{"date": "2025-04-02", "kind": "video"}],
         "services": [{"gop": "03000", "date": "2025-04-02", "lanr": LANR}, {"gop": "88220", "date": "2025-04-02"}]},
        {"case_id": "B", "contacts": [{"date": "2025-04-03", "kind": "telephone"}],
         "services": [{"gop": "01435", "date": "2025-04-03"}]}]}
    result = run("-", "--format", "json", stdin=json.dumps(doc))
    report = json.loads(result.stdout)
    a, b = report["cases"]
    assert a["video_only"] and not a["findings"][1:] and a["lines"][0]["factor"] == "0.80"
    assert b["phone_only"] and not b["findings"]
    assert report["caps"][0]["unit"] == "bsnr" and report["caps"][0]["limit"] == "0.5"


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe0\x001\x00", "UTF-16"),
    (b"0138000con0\r\n0148000besa\r\n", "Zeile 2, Feld 8000 (Satzart): Längenangabe 14"),
    (b'{"format": "x"}', "kein Fallformat"),
    (b"Hallo", "weder eine KVDT-Datei"),
])
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
    data = kvdt_bytes([case((2, ["03000"]), quarter=Quarter(2018, 1))], quarter=Quarter(2018, 1))
    result = run("-", stdin=data.decode("iso8859_15"))
    assert result.returncode == 2 and "keine Regelversion" in result.stderr

"""The GDT bridge (issue 19): a PVS's request for a new examination (Satzart 6302) becomes an
encrypted video appointment, answered with Satzart 6310 carrying the access code and the join link.

The request files are written here byte by byte from the GDT 2.1 record description (Qualitätsring
Medizinische Software): every line is three digits of length (the line's bytes with its own
digits and CR LF), four digits of field id, the content, CR LF; 8000 first, 8100 (the record's
bytes, five digits) second; 9206 "2" is IBM code page 437, "3" ISO 8859-1. Not made with our
writer, so a writer and reader that agree on a mistake cannot pass."""

from __future__ import annotations

import datetime as dt

import pytest

from sprechzimmer.demo import keys
from sprechzimmer.video.models import Appointment
from sprechzimmer_client import bridge, gdt
from sprechzimmer_client.crypto import PATIENT_KIND

pytestmark = pytest.mark.django_db(transaction=True)

# 6302 from the PVS "MEDI" to the bridge "SZVS": patient 4711, Erika Mustermann, born 12.08.1961,
# code page 437 (the GDT default), GDT 2.10. Lengths: 13+14+13+13+14+10+13+19+14+17+10 = 150.
REQUEST = (
    b"01380006302\r\n"
    b"014810000150\r\n"
    b"0138315SZVS\r\n"
    b"0138316MEDI\r\n"
    b"014921802.10\r\n"
    b"01092062\r\n"
    b"01330004711\r\n"
    b"0193101Mustermann\r\n"
    b"0143102Erika\r\n"
    b"017310312081961\r\n"
    b"01031102\r\n"
)
# "Jürgen Müller" in code page 437 (ü = 0x81) with a wanted day (6200, set per run: appointments
# may be at most two years ahead) and time 09:30 (6201).
WANTED_DAY = dt.date.today() + dt.timedelta(days=5)
REQUEST_CP437_WITH_TIME = (
    b"01380006302\r\n"
    b"014810000158\r\n"
    b"0138316MEDI\r\n"
    b"01092062\r\n"
    b"01330000815\r\n"
    b"0153101M\x81ller\r\n"
    b"0153102J\x81rgen\r\n"
    b"017310301021950\r\n"
    b"0176200" + WANTED_DAY.strftime("%d%m%Y").encode() + b"\r\n"
    b"0156201093000\r\n"
    b"0168402VIDEO01\r\n"
)
# Bare LF line ends (some systems write them) and ISO 8859-1 (9206 = 3, ö = 0xF6).
REQUEST_LATIN1_LF = b"01380006302\n0138316MEDI\n01092063\n0113000815\n0153101J\xf6rges\n"


def settings_for(tmp_path, practice) -> bridge.Settings:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    return bridge.Settings(inbox, outbox, practice.main.pk)


def patient_of(practice, appointment: Appointment) -> dict:
    context = keys.record_context(practice.organisation.pk, PATIENT_KIND)
    return keys.decrypt_record(practice.key, context, appointment.patient_ciphertext)


def test_a_request_becomes_an_encrypted_appointment_and_an_answer(practice, granted, tmp_path):
    settings = settings_for(tmp_path, practice)
    (settings.inbox / "SZVSMEDI.GDT").write_bytes(REQUEST)
    day = dt.date.today() + dt.timedelta(days=3)
    now = dt.datetime.combine(day, dt.time(10, 7), tzinfo=bridge.BERLIN)
    [answer_path] = bridge.process(granted, settings, now=now)
    assert answer_path.name == "MEDISZVS.GDT" and not list(settings.inbox.iterdir())

    data = answer_path.read_bytes()
    assert data.startswith(b"01380006310\r\n014810")
    assert int(data.split(b"\r\n")[1][7:]) == len(data)  # 8100 = the record's bytes
    for line in data.split(b"\r\n")[:-1]:
        assert int(line[:3]) == len(line) + 2
    answer = gdt.parse(data)
    assert (answer.get("8315"), answer.get("8316"), answer.get("3000")) == ("MEDI", "SZVS", "4711")
    assert answer.get("6200") == day.strftime("%d%m%Y") and answer.get("6201") == "103000"  # next quarter hour ≥ 10 min
    code_line, link_line = answer.getall("6228")
    code = code_line.removeprefix("Zugangscode: ")
    assert link_line == f"Link: {practice.url}/sprechstunde/#code={code}"

    appointment = Appointment.objects.get(organisation=practice.organisation)
    assert appointment.start == dt.datetime.combine(day, dt.time(10, 30), tzinfo=bridge.BERLIN)
    assert "Mustermann" not in appointment.patient_ciphertext
    patient = patient_of(practice, appointment)
    assert patient["name"] == "Erika Mustermann" and patient["birth_date"] == "1961-08-12"
    assert "4711" in patient["note"]


def test_code_page_437_a_wanted_time_and_numbered_answers(practice, granted, tmp_path):
    settings = settings_for(tmp_path, practice)
    (settings.outbox / "MEDISZVS.GDT").write_bytes(b"not yet read by the PVS")
    (settings.inbox / "anfrage.001").write_bytes(REQUEST_CP437_WITH_TIME)
    [answer_path] = bridge.process(granted, settings)
    assert answer_path.name == "MEDISZVS.001"
    answer = gdt.parse(answer_path.read_bytes())
    assert answer.get("3101") == "Müller" and b"M\x81ller" in answer_path.read_bytes()
    assert answer.get("8402") == "VIDEO01" and answer.get("6201") == "093000"
    appointment = Appointment.objects.get(organisation=practice.organisation)
    assert appointment.start == dt.datetime.combine(WANTED_DAY, dt.time(9, 30), tzinfo=bridge.BERLIN)
    assert patient_of(practice, appointment)["name"] == "Jürgen Müller"


def test_latin1_with_bare_line_feeds(practice, granted, tmp_path):
    settings = settings_for(tmp_path, practice)
    (settings.inbox / "x.gdt").write_bytes(REQUEST_LATIN1_LF)
    [answer_path] = bridge.process(granted, settings)
    assert b"J\xf6rges" in answer_path.read_bytes()  # answered in the request's character set
    assert patient_of(practice, Appointment.objects.get())["name"] == "Jörges"


@pytest.mark.parametrize(
    "request_bytes, message",
    [
        (b"", "leer"),
        (b"01380006301\r\n01330004711\r\n0193101Mustermann\r\n", "nur 6302"),
        (b"01380006302\r\n0193101Mustermann\r\n", "Feld 3000 (Patientennummer) fehlt"),
        (b"01380006302\r\n01330004711\r\n", "Feld 3101 (Name) fehlt"),
        (b"01380006302\r\n01330004711\r\n0203101Mustermann\r\n", "Zeile 3, Feld 3101: die Längenangabe 020"),
        (b"01380006302\r\n01330004711\r\n0193101Mustermann\r\n017310331021961\r\n", "kein gültiges Datum"),
        (b"01380006302\r\n01330004711\r\n0193101Mustermann\r\n01092069\r\n", "kein GDT-Zeichensatz"),
        (b"01380006302\r\nMustermann\r\n", "Zeile 2: keine GDT-Zeile"),
        (
            b"01380006302\r\n01330004711\r\n0193101Mustermann\r\n01092061\r\n0133102J\xfcrg\r\n",
            "außerhalb des Zeichensatzes 1",
        ),
        (
            b"01380006302\r\n01330004711\r\n0193101Mustermann\r\n017620031122030\r\n0116201xx\r\n",
            "Felder 6200/6201",
        ),
    ],
)
def test_bad_requests_get_an_error_record_and_no_appointment(practice, granted, tmp_path, request_bytes, message):
    settings = settings_for(tmp_path, practice)
    (settings.inbox / "SZVSMEDI.GDT").write_bytes(request_bytes)
    [answer_path] = bridge.process(granted, settings)
    answer = gdt.parse(answer_path.read_bytes())
    assert answer.kind == "6310"
    assert answer.get("6220").startswith("Fehler: ") and message in answer.get("6220")
    assert not answer.getall("6228")
    assert not Appointment.objects.exists()


def test_refusals_of_the_server_are_answered_too(practice, granted, tmp_path):
    settings = settings_for(tmp_path, practice)
    settings.doctor_id = 999_999  # not a doctor of the practice
    (settings.inbox / "SZVSMEDI.GDT").write_bytes(REQUEST)
    [answer_path] = bridge.process(granted, settings)
    assert "Ärztin oder einen Arzt Ihrer Praxis" in gdt.parse(answer_path.read_bytes()).get("6220")
    assert not Appointment.objects.exists()


def test_an_interrupted_request_is_not_made_twice(practice, granted, tmp_path):
    settings = settings_for(tmp_path, practice)
    (settings.inbox / ("SZVSMEDI.GDT" + bridge.IN_PROGRESS)).write_bytes(REQUEST)
    [answer_path] = bridge.process(granted, settings)
    assert "unterbrochen" in gdt.parse(answer_path.read_bytes()).get("6220")
    assert not Appointment.objects.exists() and not list(settings.inbox.iterdir())

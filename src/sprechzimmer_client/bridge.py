"""The GDT bridge: a PVS asks for a video appointment for the patient whose file is open (6302),
the bridge creates it through the API with the patient data encrypted here, and answers (6310)
with the access code and the join link, which the PVS files with the patient.

Where no appointment time is given, the appointment starts at the next quarter hour at least
``lead_minutes`` from now (a video consultation started from the patient's file); a PVS that can
send a date and time passes them in 6200 (TTMMJJJJ) and 6201 (HHMM or HHMMSS) of the request.
A request that cannot be used is answered with a 6310 whose Befund (6220) begins with "Fehler:"
and says why; no appointment is made for it. A request is renamed to ``*.in-arbeit`` before it is
used and deleted after the answer is written, so a crash in between does not make a second
appointment when the bridge starts again: such a request is answered with an error instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import gdt
from .client import Client, ClientError
from .crypto import CryptoError

BERLIN = ZoneInfo("Europe/Berlin")
IN_PROGRESS = ".in-arbeit"
log = logging.getLogger("sprechzimmer_client.bridge")


@dataclass
class Settings:
    inbox: Path
    outbox: Path
    doctor_id: int
    own_id: str = "SZVS"  # the bridge's GDT-ID (8315 of requests to it, 8316 of its answers)
    duration_minutes: int = 15
    lead_minutes: int = 10


def next_start(now: dt.datetime, lead_minutes: int) -> dt.datetime:
    earliest = now.astimezone(BERLIN) + dt.timedelta(minutes=lead_minutes)
    quarter = (earliest.minute // 15 + (1 if earliest.minute % 15 or earliest.second else 0)) * 15
    base = earliest.replace(minute=0, second=0, microsecond=0)
    return base + dt.timedelta(minutes=quarter)


def requested_start(record: gdt.Record) -> dt.datetime | None:
    day_text, time_text = record.get("6200").strip(), record.get("6201").strip()
    if not day_text and not time_text:
        return None
    try:
        day = dt.datetime.strptime(day_text, "%d%m%Y").date()
        clock = dt.datetime.strptime(time_text[:4], "%H%M").time()
    except ValueError:
        raise gdt.GdtError(
            f"Felder 6200/6201 (Termin): „{day_text}“/„{time_text}“ ist kein Datum TTMMJJJJ mit Uhrzeit HHMM."
        ) from None
    return dt.datetime.combine(day, clock, tzinfo=BERLIN)


def _patient(record: gdt.Record) -> dict[str, Any]:
    number = record.get("3000").strip()
    if not number:
        raise gdt.GdtError("Feld 3000 (Patientennummer) fehlt; GDT verlangt es in Satzart 6302.")
    name = record.get("3101").strip()
    if not name:
        raise gdt.GdtError("Feld 3101 (Name) fehlt: ohne Namen kann die Praxis den Termin nicht zuordnen.")
    born = gdt.birth_date(record.get("3103").strip()) if record.get("3103").strip() else None
    return {
        "name": " ".join(part for part in (record.get("3102").strip(), name) if part),
        "birth_date": born.isoformat() if born else "",
        "note": f"Patientennummer im PVS: {number}",
    }


def _answer_fields(record: gdt.Record | None, settings: Settings) -> list[tuple[str, str]]:
    pvs_id = (record.get("8316") if record else "").strip()
    fields = ([("8315", pvs_id)] if pvs_id else []) + [("8316", settings.own_id)]
    fields.append(("9206", record.charset if record else gdt.DEFAULT_CHARSET))
    fields.append(("9218", gdt.GDT_VERSION))
    for fid in ("3000", "3101", "3102", "3103", "8402"):
        if record and record.get(fid):
            fields.append((fid, record.get(fid)))
    return fields


def answer(client: Client, data: bytes, settings: Settings, now: dt.datetime | None = None) -> bytes:
    """The 6310 answer to a request file's bytes; creates the appointment only for a usable request."""
    record: gdt.Record | None = None
    try:
        record = gdt.parse(data)
        if record.kind != gdt.REQUEST:
            raise gdt.GdtError(f"Satzart {record.kind}: die Brücke beantwortet nur 6302 (Neue Untersuchung anfordern).")
        patient = _patient(record)
        start = requested_start(record) or next_start(now or dt.datetime.now(BERLIN), settings.lead_minutes)
        appointment, code = client.create_appointment(
            settings.doctor_id, start, patient, duration_minutes=settings.duration_minutes
        )
    except (gdt.GdtError, ClientError, CryptoError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        log.warning("GDT request refused: %s", message)
        fields = _answer_fields(record, settings) + [("6220", f"Fehler: {message}")]
        return gdt.write(gdt.RESULT, fields, record.charset if record else gdt.DEFAULT_CHARSET)
    local = appointment.start.astimezone(BERLIN)
    link = client.join_link(code)
    fields = _answer_fields(record, settings) + [
        ("6200", gdt.date_text(local.date())),
        ("6201", local.strftime("%H%M%S")),
        ("6220", f"Videosprechstunde am {local:%d.%m.%Y} um {local:%H:%M} Uhr"),
        ("6228", f"Zugangscode: {code}"),
        ("6228", f"Link: {link}"),
        ("6227", "Code und Link nur der Patientin oder dem Patienten geben."),
    ]
    return gdt.write(gdt.RESULT, fields, record.charset)


def _answer_path(settings: Settings, request: bytes) -> Path:
    try:
        pvs_id = gdt.parse(request).get("8316").strip()
    except gdt.GdtError:
        pvs_id = ""
    stem = f"{pvs_id or 'PVS'}{settings.own_id}"[:8]
    path = settings.outbox / f"{stem}.GDT"
    number = 0
    while path.exists():  # the PVS has not read the previous answer yet: GDT's numbered files
        number += 1
        path = settings.outbox / f"{stem}.{number:03d}"
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def process(client: Client, settings: Settings, now: dt.datetime | None = None) -> list[Path]:
    """Answers every request in the inbox once; returns the answers written."""
    written = []
    for leftover in sorted(settings.inbox.glob(f"*{IN_PROGRESS}")):
        data = leftover.read_bytes()
        fields = _answer_fields(_safe_parse(data), settings)
        message = "Fehler: Die Anfrage wurde unterbrochen; bitte im Terminkalender prüfen, ob der Termin besteht."
        path = _answer_path(settings, data)
        _write_atomically(path, gdt.write(gdt.RESULT, fields + [("6220", message)]))
        leftover.unlink()
        written.append(path)
    for request in sorted(p for p in settings.inbox.iterdir() if p.is_file() and _is_request(p)):
        working = request.with_name(request.name + IN_PROGRESS)
        os.replace(request, working)
        data = working.read_bytes()
        path = _answer_path(settings, data)
        _write_atomically(path, answer(client, data, settings, now))
        working.unlink()
        written.append(path)
    return written


def _is_request(path: Path) -> bool:
    name = path.name.upper()
    return name.endswith(".GDT") or re.fullmatch(r".+\.\d{3}", name) is not None


def _safe_parse(data: bytes) -> gdt.Record | None:
    try:
        return gdt.parse(data)
    except gdt.GdtError:
        return None


def watch(client: Client, settings: Settings, interval: float = 1.0) -> None:  # pragma: no cover - loop
    while True:
        process(client, settings)
        time.sleep(interval)

"""The simple case format (JSON) for practices without a KVDT export, with explicit contacts.

    {"format": "sprechzimmer-ebm/1", "quarter": "3/2024", "bsnr": "521234500",
     "cases": [{"case_id": "4711", "record_type": "0101", "subgroup": null, "tss_acute": false,
                "patient": "P-17", "age": 42,
                "contacts": [{"date": "2024-07-02", "time": "09:30", "kind": "video"}],
                "services": [{"gop": "03000", "date": "2024-07-02", "time": "09:30",
                              "multiplier": 1, "lanr": "838382202"}]}]}

``kind`` is personal, video, telephone or indirect. A service belongs to the contact of its date
(and time, where the day has several). Without ``contacts`` the engine infers them as for KVDT.
``patient`` (optional, any string the practice chooses) groups Scheine of one patient into one
Behandlungsfall; ``age`` (optional, completed years at the first contact of the quarter) feeds the
rules that depend on it (01435 for children, age tiers).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import NoReturn

from .catalogue import GOP_PATTERN
from .kvdt import TREATMENT_RECORDS
from .model import CONTACT_KINDS, BillingError, Case, Contact, Quarter, Service

FORMAT = "sprechzimmer-ebm/1"
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _fail(where: str, reason: str) -> NoReturn:
    raise BillingError(f"{where}: {reason}")


def _date(raw: object, where: str) -> dt.date:
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    _fail(where, f"»{raw}« ist kein Datum (JJJJ-MM-TT).")


def _time(raw: object, where: str) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not _TIME.fullmatch(raw):
        _fail(where, f"»{raw}« ist keine Uhrzeit (hh:mm).")
    return raw


def _text(raw: object, where: str, pattern: str | None = None, label: str = "Wert") -> str:
    if not isinstance(raw, str) or not raw.strip():
        _fail(where, f"{label} fehlt.")
    if pattern and not re.fullmatch(pattern, raw):
        _fail(where, f"»{raw}« ist kein gültiger {label}.")
    return raw.strip()


def read_simple(data: bytes) -> tuple[Quarter, str | None, list[Case]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BillingError("Die JSON-Datei ist nicht UTF-8-kodiert.") from None
    except json.JSONDecodeError as exc:
        raise BillingError(f"Die JSON-Datei ist fehlerhaft (Zeile {exc.lineno}, Spalte {exc.colno}).") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BillingError(f'Die JSON-Datei ist kein Fallformat von Sprechzimmer ("format": "{FORMAT}" fehlt).')
    raw_quarter = doc.get("quarter")
    quarter = Quarter.parse(raw_quarter if isinstance(raw_quarter, str) else "")
    bsnr = doc.get("bsnr")
    if bsnr is not None:
        bsnr = _text(bsnr, "Kopf", r"\d{9}", "BSNR")
    raw_cases = doc.get("cases")
    if not isinstance(raw_cases, list):
        raise BillingError("Die JSON-Datei braucht eine Liste »cases«.")
    cases = [_case(raw, number, bsnr, quarter) for number, raw in enumerate(raw_cases, start=1)]
    return quarter, bsnr, cases


def _case(raw: object, number: int, bsnr: str | None, quarter: Quarter) -> Case:
    where = f"Fall {number}"
    if not isinstance(raw, dict):
        _fail(where, "ist kein Objekt.")
    case_id = _text(raw.get("case_id"), where, label="Fallnummer (case_id)")
    where = f"Fall {number} ({case_id})"
    record_type = raw.get("record_type", "0101")
    if record_type not in TREATMENT_RECORDS:
        _fail(where, "record_type ist 0101, 0102, 0103 oder 0104.")
    subgroup = raw.get("subgroup")
    if subgroup is not None and not (isinstance(subgroup, str) and re.fullmatch(r"\d{2}", subgroup)):
        _fail(where, "subgroup (Scheinuntergruppe) hat zwei Ziffern.")
    contacts: list[Contact] | None = None
    if raw.get("contacts") is not None:
        if not isinstance(raw["contacts"], list):
            _fail(where, "contacts ist eine Liste.")
        contacts = []
        for index, item in enumerate(raw["contacts"], start=1):
            at = f"{where}, Kontakt {index}"
            if not isinstance(item, dict):
                _fail(at, "ist kein Objekt.")
            kind = item.get("kind")
            if kind not in CONTACT_KINDS:
                _fail(at, f"kind ist eine von {', '.join(CONTACT_KINDS)}.")
            kind = CONTACT_KINDS[CONTACT_KINDS.index(kind)]  # the model's own string, compared with ``is``
            contacts.append(Contact(_date(item.get("date"), at), kind, index, _time(item.get("time"), at)))
    services_raw = raw.get("services", [])
    if not isinstance(services_raw, list):
        _fail(where, "services ist eine Liste.")
    services = []
    inferred_visits: dict[tuple[dt.date, str | None], int] = {}
    for index, item in enumerate(services_raw, start=1):
        at = f"{where}, Leistung {index}"
        if not isinstance(item, dict):
            _fail(at, "ist kein Objekt.")
        gop = _text(item.get("gop"), at, GOP_PATTERN.pattern, "GOP")
        date = _date(item.get("date"), at)
        time = _time(item.get("time"), at)
        multiplier = item.get("multiplier", 1)
        if not isinstance(multiplier, int) or isinstance(multiplier, bool) or not 1 <= multiplier <= 99:
            _fail(at, "multiplier ist eine ganze Zahl von 1 bis 99.")
        lanr = item.get("lanr")
        if lanr is not None:
            lanr = _text(lanr, at, r"\d{9}", "LANR")
        if contacts is None:
            visit = inferred_visits.setdefault((date, time), len(inferred_visits) + 1)
        else:
            visit = _visit_of(contacts, date, time, at)
        services.append(Service(gop, date, visit, time, multiplier, lanr))
    patient = raw.get("patient")
    if patient is not None and not (isinstance(patient, str) and patient.strip()):
        _fail(where, "patient ist ein nicht leerer Text.")
    age = raw.get("age")
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 150):
        _fail(where, "age ist eine ganze Zahl von 0 bis 150.")
    return Case(
        case_id,
        record_type,
        bsnr,
        subgroup,
        bool(raw.get("tss_acute", False)),
        services,
        contacts,
        quarter=quarter,
        name=b"json:" + patient.strip().encode("utf-8") if patient else None,
        age=age,
    )


def _visit_of(contacts: list[Contact], date: dt.date, time: str | None, where: str) -> int:
    same_day = [c for c in contacts if c.date == date]
    if time:
        timed = [c for c in same_day if c.time == time]
        if timed:
            return timed[0].visit
    if len(same_day) == 1:
        return same_day[0].visit
    if not same_day:
        _fail(where, f"kein Kontakt am {date:%d.%m.%Y} angegeben.")
    _fail(where, f"am {date:%d.%m.%Y} gibt es mehrere Kontakte; die Uhrzeit der Leistung ordnet sie zu.")


def write_simple(quarter: Quarter, bsnr: str | None, cases: list[Case]) -> dict[str, object]:
    """The JSON document for ``cases`` (``json.dumps`` it)."""
    out = []
    for case in cases:
        item: dict[str, object] = {
            "case_id": case.case_id,
            "record_type": case.record_type,
            "subgroup": case.subgroup,
            "tss_acute": case.tss_acute,
            "services": [
                {"gop": s.gop, "date": s.date.isoformat(), "time": s.time, "multiplier": s.multiplier, "lanr": s.lanr}
                for s in case.services
            ],
        }
        if case.name is not None and case.name.startswith(b"json:"):
            item["patient"] = case.name[5:].decode("utf-8")
        if case.age is not None:
            item["age"] = case.age
        if case.contacts is not None:
            item["contacts"] = [{"date": c.date.isoformat(), "time": c.time, "kind": c.kind} for c in case.contacts]
        out.append(item)
    return {"format": FORMAT, "quarter": str(quarter), "bsnr": bsnr, "cases": out}

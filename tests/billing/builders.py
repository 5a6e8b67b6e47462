"""Small builders for billing tests: cases as visits of GOPs, and KVDT bytes."""

from __future__ import annotations

import datetime as dt
import io

from sprechzimmer.billing.domain.catalogue import DEFAULT_GOP_FILE, Catalogue
from sprechzimmer.billing.domain.grouping import Grouper
from sprechzimmer.billing.domain.kvdt import kvdt_line, write_kvdt
from sprechzimmer.billing.domain.model import Case, Contact, Quarter, Service
from sprechzimmer.billing.domain.rules import QuarterCheck
from sprechzimmer.billing.domain.rulesets import RuleBook

LANR = "838382202"
LANR_2 = "123456640"
BSNR = "521234500"
Q3_2024 = Quarter(2024, 3)
CATALOGUE = Catalogue.load(DEFAULT_GOP_FILE)  # the built-in data, whatever is imported locally
RULEBOOK = RuleBook.load()


def case(
    *visits,
    case_id="1",
    record_type="0101",
    subgroup=None,
    tss_acute=False,
    lanr=LANR,
    contacts=None,
    bsnr=BSNR,
    quarter=Q3_2024,
    patient=None,
    birth=None,
    age=None,
    payer=None,
) -> Case:
    """``visits``: (day of the quarter's first month, [GOPs], time or None, LANR of the visit). ``patient``
    (a name) makes Scheine of one patient one Behandlungsfall; ``birth`` (JJJJMMTT) or ``age`` gives the age."""
    services = []
    for number, visit in enumerate(visits, start=1):
        day, gops, *rest = visit
        time = rest[0] if rest else None
        doctor = rest[1] if len(rest) > 1 else lanr
        date = dt.date(quarter.year, quarter.first_day.month, day)
        services += [Service(gop, date, number, time, 1, doctor) for gop in gops]
    if contacts is not None:
        contacts = [
            Contact(dt.date(quarter.year, quarter.first_day.month, visit[0]), kind, number, None)
            for number, (visit, kind) in enumerate(zip(visits, contacts, strict=True), start=1)
        ]
    return Case(
        case_id,
        record_type,
        bsnr,
        subgroup,
        tss_acute,
        services,
        contacts,
        quarter=quarter,
        name=patient.encode("iso8859_15") if patient else None,
        first_name=b"Erika" if patient else None,
        birth=birth.encode() if birth else None,
        payer=payer,
        age=age,
    )


def check(*cases: Case, quarter: Quarter = Q3_2024) -> tuple[list, object]:
    """Groups the Scheine into Behandlungsfälle (as a file would be) and checks them."""
    checker = QuarterCheck(quarter, RULEBOOK, CATALOGUE)
    results = [checker.add(c) for c in Grouper(None).group(cases)]
    return results, checker.summary()


def kvdt_bytes(cases: list[Case], quarter: Quarter = Q3_2024, bsnr: str = BSNR) -> bytes:
    out = io.BytesIO()
    write_kvdt(cases, quarter, bsnr, out)
    return out.getvalue()


def lines(*pairs: tuple[str, str]) -> bytes:
    return b"".join(kvdt_line(field, content) for field, content in pairs)

"""Small builders for billing tests: cases as visits of GOPs, and KVDT bytes."""

from __future__ import annotations

import datetime as dt
import io

from sprechzimmer.billing.domain.catalogue import Catalogue
from sprechzimmer.billing.domain.kvdt import kvdt_line, write_kvdt
from sprechzimmer.billing.domain.model import Case, Contact, Quarter, Service
from sprechzimmer.billing.domain.rules import QuarterCheck
from sprechzimmer.billing.domain.rulesets import RuleBook

LANR = "838382202"
LANR_2 = "123456640"
BSNR = "521234500"
Q3_2024 = Quarter(2024, 3)
CATALOGUE = Catalogue.load()
RULEBOOK = RuleBook.load()


def case(*visits, case_id="1", record_type="0101", subgroup=None, tss_acute=False, lanr=LANR, contacts=None,
         bsnr=BSNR, quarter=Q3_2024) -> Case:
    """``visits``: (day of the quarter's first month, [GOPs], time or None)."""
    services = []
    for number, visit in enumerate(visits, start=1):
        day, gops, *rest = visit
        time = rest[0] if rest else None
        date = dt.date(quarter.year, quarter.first_day.month, day)
        services += [Service(gop, date, number, time, 1, lanr) for gop in gops]
    if contacts is not None:
        contacts = [Contact(dt.date(quarter.year, quarter.first_day.month, visit[0]), kind, number, None)
                    for number, (visit, kind) in enumerate(zip(visits, contacts), start=1)]
    return Case(case_id, record_type, bsnr, subgroup, tss_acute, services, contacts)


def check(*cases: Case, quarter: Quarter = Q3_2024) -> tuple[list, object]:
    checker = QuarterCheck(quarter, RULEBOOK, CATALOGUE)
    results = [checker.add(c) for c in cases]
    return results, checker.summary()


def kvdt_bytes(cases: list[Case], quarter: Quarter = Q3_2024, bsnr: str = BSNR) -> bytes:
    out = io.BytesIO()
    write_kvdt(cases, quarter, bsnr, out)
    return out.getvalue()


def lines(*pairs: tuple[str, str]) -> bytes:
    return b"".join(kvdt_line(field, content) for field, content in pairs)

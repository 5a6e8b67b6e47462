"""A KV with one area, obliged doctors and K-Ärzte, and published plans, for view and service tests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.duty import plans
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, EmergencyPractice, Plan
from tests import factories

_kv_codes = itertools.count(10)


def kv(name="KV Test") -> Organisation:
    code = next(_kv_codes)
    return Organisation.objects.create(
        kind=Organisation.Kind.KV, name=name, bsnr=f"KV{code}", street="Weg 1", postcode="70567", city="Stuttgart"
    )


def staff(organisation) -> User:
    return factories.member(organisation, role=User.Role.STAFF, with_key=False)


def area(organisation, name="Bereich Test", **options) -> Area:
    result = Area.objects.create(kv=organisation, name=name, **options)
    practice = EmergencyPractice.objects.create(
        area=result, name=f"Notfallpraxis {name}", address="Weg 2", bsnr="529999900"
    )
    DutyType.objects.create(area=result, kind=DutyType.Kind.SITTING, practice=practice)
    DutyType.objects.create(area=result, kind=DutyType.Kind.DRIVING)
    return result


def doctor(organisation, home=None, kind=DutyDoctor.Kind.OBLIGED, weight="1", **fields) -> DutyDoctor:
    user = factories.member(None, with_key=False)
    return DutyDoctor.objects.create(kv=organisation, user=user, area=home, kind=kind, weight=Decimal(weight), **fields)


def next_monday(weeks_ahead=4) -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday(), weeks=weeks_ahead)


def published_plan(home: Area, weeks_ahead=4, days=7) -> Plan:
    first = next_monday(weeks_ahead)
    plan = plans.generate_plan(home, first, first + dt.timedelta(days=days - 1))
    plans.publish(plan)
    return plan


def logged_in(client, user):
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    return client


def first_duty_of(plan: Plan, doctor: DutyDoctor) -> Duty:
    return plan.duties.filter(doctor=doctor).order_by("start").first()


def pdf_text(data: bytes) -> str:
    """The text operators of a reportlab PDF (its page streams are ASCII85 + Flate encoded)."""
    import base64
    import re
    import zlib

    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            body = raw[2:] if raw.startswith(b"<~") else raw
            raw = base64.a85decode(body[:-2])
        try:
            chunks.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            chunks.append(raw.decode("latin-1", "replace"))
    return "\n".join(chunks)


def pdf_lines(data: bytes) -> str:
    """The text of a reportlab PDF as written: the strings of each text object joined, escapes undone,
    decoded as reportlab writes the standard fonts (WinAnsi: € is 0x80)."""
    import re

    def unescape(raw: str) -> str:
        text = re.sub(
            r"\\([0-7]{1,3}|.)", lambda m: chr(int(m.group(1), 8)) if m.group(1)[0].isdigit() else m.group(1), raw
        )
        return text.encode("latin-1", "replace").decode("cp1252", "replace")

    blocks = re.findall(r"BT(.*?)ET", pdf_text(data), re.S)
    return "\n".join("".join(unescape(s) for s in re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", block)) for block in blocks)

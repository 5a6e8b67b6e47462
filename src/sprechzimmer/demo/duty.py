"""Demo data of the emergency duty: a KV with staff, one area, obliged doctors, a K-Arzt and a
published plan of the next six weeks (run by `sprechzimmer demo`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.demo import provisioning
from sprechzimmer.demo.data import (
    DEMO_AREA,
    DEMO_K_ARZT,
    DEMO_KV_CODE,
    DEMO_KV_STAFF,
    DEMO_OBLIGED,
    DEMO_PASSWORD,
    DEMO_SUBSTITUTE,
)
from sprechzimmer.duty import plans
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, EmergencyPractice

PLAN_WEEKS = 6
OFFERED = 4


def create(practice_doctor: User) -> Area:
    kv = Organisation.objects.create(
        kind=Organisation.Kind.KV,
        name="Kassenärztliche Vereinigung Baden-Württemberg",
        bsnr=f"KV{DEMO_KV_CODE}",
        street="Albstadtweg 11",
        postcode="70567",
        city="Stuttgart",
    )
    email, name, secret = DEMO_KV_STAFF
    staff = provisioning.add_member(kv, email=email, name=name, password=DEMO_PASSWORD, role=User.Role.STAFF)
    provisioning.enable_totp(staff, secret)

    area = Area.objects.create(kv=kv, name=DEMO_AREA)
    practice = EmergencyPractice.objects.create(
        area=area, name="Notfallpraxis am Marienhospital", address="Böheimstraße 37, 70199 Stuttgart", bsnr="529999900"
    )
    DutyType.objects.create(area=area, kind=DutyType.Kind.SITTING, practice=practice)
    DutyType.objects.create(area=area, kind=DutyType.Kind.DRIVING)

    DutyDoctor.objects.create(kv=kv, user=practice_doctor, area=area)
    for email, name, lanr, weight in DEMO_OBLIGED:
        user = provisioning.add_member(
            None, email=email, name=name, password=DEMO_PASSWORD, role=User.Role.DOCTOR, lanr=lanr
        )
        DutyDoctor.objects.create(kv=kv, user=user, area=area, weight=Decimal(weight))
    email, name, lanr, secret = DEMO_SUBSTITUTE
    user = provisioning.add_member(
        None, email=email, name=name, password=DEMO_PASSWORD, role=User.Role.DOCTOR, lanr=lanr
    )
    provisioning.enable_totp(user, secret)
    # Registered for substitutions (Vertretungen) only: not planned in the area.
    DutyDoctor.objects.create(kv=kv, user=user, qualifications=[DutyType.Kind.SITTING])
    email, name, lanr, secret = DEMO_K_ARZT
    user = provisioning.add_member(
        None, email=email, name=name, password=DEMO_PASSWORD, role=User.Role.DOCTOR, lanr=lanr
    )
    provisioning.enable_totp(user, secret)
    DutyDoctor.objects.create(kv=kv, user=user, kind=DutyDoctor.Kind.COOPERATING)

    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    plan = plans.generate_plan(area, monday, monday + dt.timedelta(weeks=PLAN_WEEKS, days=-1))
    plans.publish(plan)
    # Some obliged doctors have offered duties in the exchange, for the K-Arzt to take.
    offered = plan.duties.exclude(doctor__user=practice_doctor).order_by("-start")[:OFFERED]
    Duty.objects.filter(pk__in=[d.pk for d in offered]).update(status=Duty.Status.OFFERED)
    return area

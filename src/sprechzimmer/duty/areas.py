"""Areas of a KV's duty planning and the times of their duty types (KV staff)."""

from __future__ import annotations

from django.db import transaction

from sprechzimmer.duty.models import Area, DutyType, EmergencyPractice


def create_area(kv, data: dict) -> Area:
    """An area with its Notfallpraxis, a Sitzdienst there, and a Fahrdienst if asked for."""
    with transaction.atomic():
        area = Area.objects.create(
            kv=kv,
            name=data["name"],
            wednesday_start=data["wednesday_start"],
            friday_start=data["friday_start"],
            rest_hours=data["rest_hours"],
        )
        practice = EmergencyPractice.objects.create(
            area=area, name=data["practice_name"], address=data["practice_address"], bsnr=data["practice_bsnr"]
        )
        DutyType.objects.create(area=area, kind=DutyType.Kind.SITTING, practice=practice)
        if data["with_driving"]:
            DutyType.objects.create(area=area, kind=DutyType.Kind.DRIVING)
    return area


def set_type_times(duty_type: DutyType, times: dict) -> None:
    """Own start times of a duty type (empty: the area's); they apply to plans made from now on."""
    for name, value in times.items():
        setattr(duty_type, name, value)
    duty_type.save(update_fields=list(times))

"""Areas of a KV's duty planning and the times of their duty types (KV staff)."""

from __future__ import annotations

from django.db import transaction

from sprechzimmer.duty.errors import DutyError
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


def add_video_duty(area: Area, data: dict) -> DutyType:
    """The area's Video-Bereitschaftsdienst with its own Notfallpraxis (BSNR): planned like the other
    duty types from the next plan on. Its BSNR must differ from the area's other Notfallpraxen, since
    each practice's quarter file replaces that practice's revenue (duty/bonus.py)."""
    with transaction.atomic():
        if area.duty_types.select_for_update().filter(kind=DutyType.Kind.VIDEO).exists():
            raise DutyError("Dieser Bereich hat schon einen Video-Bereitschaftsdienst.")
        if EmergencyPractice.objects.filter(area__kv_id=area.kv_id, bsnr=data["practice_bsnr"]).exists():
            raise DutyError(
                "Unter dieser BSNR rechnet schon eine Notfallpraxis Ihrer KV ab. Der Video-Bereitschaftsdienst "
                "braucht eine eigene."
            )
        practice = EmergencyPractice.objects.create(
            area=area, name=data["practice_name"], address="Videosprechstunde", bsnr=data["practice_bsnr"]
        )
        return DutyType.objects.create(area=area, kind=DutyType.Kind.VIDEO, practice=practice)


def set_type_times(duty_type: DutyType, times: dict) -> None:
    """Own start times of a duty type (empty: the area's); they apply to plans made from now on."""
    for name, value in times.items():
        setattr(duty_type, name, value)
    duty_type.save(update_fields=list(times))

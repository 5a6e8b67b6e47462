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


#: What an area is made with and goes with it; anything else that points at it keeps it.
GOES_WITH_THE_AREA = {"practices", "duty_types"}
#: What keeps an area, as the staff read it (a test wants every relation to Area named here).
KEEPS_THE_AREA = {
    "doctors": "eingetragene Ärztinnen und Ärzte",
    "extra_doctors": "eingetragene Ärztinnen und Ärzte",
    "invitations": "Einladungen",
    "plans": "Dienstpläne",
    "cooperationapplication_set": "Anträge auf Kooperation",
    "video_referrals": "Video-Vermittlungen",
}


def delete_area(area: Area) -> None:
    """Deletes an area created by mistake, with its Notfallpraxen and duty types, only while
    nothing else points at it (a plan, a doctor entered or invited, an application, a referral:
    every relation to Area, so one added later is covered too); otherwise DutyError names what."""
    with transaction.atomic():
        locked = Area.objects.select_for_update().get(pk=area.pk)
        left = sorted(
            {
                KEEPS_THE_AREA[name]
                for name in (relation.get_accessor_name() for relation in Area._meta.related_objects)
                if name not in GOES_WITH_THE_AREA and getattr(locked, name).exists()
            }
        )
        if left:
            raise DutyError(
                f"Der Bereich „{locked}“ lässt sich nicht löschen; an ihm hängen noch: {', '.join(left)}. "
                "Löschen lässt sich nur ein Bereich, der noch nicht verwendet wird."
            )
        locked.delete()


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

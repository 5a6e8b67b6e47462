"""Screen sharing is plus: the doctor's call screen and the patient's access say so from the same
gate (the media run browser to browser, so the server's part is not to offer it)."""

import json

from django.urls import reverse

from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract
from tests.video.helpers import video_practice


def test_screen_sharing_is_offered_with_plus_only(client, db):
    practice, doctor, appointment, code = video_practice("Praxis Teilen")
    client.force_login(doctor)
    room = reverse("room", args=[appointment.pk])
    access = reverse("api_patient_access")

    assert 'data-screen-sharing="off"' in client.get(room).content.decode()  # basis
    patient = json.loads(client.post(access, json.dumps({"code": code}), content_type="application/json").content)
    assert patient["screen_sharing"] is False

    Contract.objects.update_or_create(organisation=practice, defaults={"plan": Plan.PLUS})
    assert 'data-screen-sharing="off"' not in client.get(room).content.decode()
    patient = json.loads(client.post(access, json.dumps({"code": code}), content_type="application/json").content)
    assert patient["screen_sharing"] is True

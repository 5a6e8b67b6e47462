"""Call metadata older than the retention period is deleted by the daily command (A8)."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from sprechzimmer.video.models import CallSession, VideoContact
from tests.video.helpers import video_practice


def test_purge_metadata_deletes_only_old_call_sessions(db, settings):
    settings.METADATA_RETENTION_DAYS = 90
    _, doctor, appointment, _ = video_practice("Praxis Archiv")
    old = CallSession.objects.create(appointment=appointment, admitted_at=timezone.now() - timedelta(days=91))
    recent = CallSession.objects.create(appointment=appointment, admitted_at=timezone.now() - timedelta(days=89))
    contact = VideoContact.objects.create(
        organisation=appointment.organisation,
        appointment=appointment,
        doctor=doctor,
        started_at=old.admitted_at,
        duration_seconds=600,
    )
    out = StringIO()
    call_command("purge_metadata", stdout=out)
    assert "1 Verbindungsdatensätze" in out.getvalue()
    assert not CallSession.objects.filter(pk=old.pk).exists()
    assert CallSession.objects.filter(pk=recent.pk).exists()
    # Video contacts are the practice's billing records, not provider metadata.
    assert VideoContact.objects.filter(pk=contact.pk).exists()


def test_a_call_both_sides_abandoned_is_ended_by_the_job(db):
    """Nobody hung up or left (a crashed browser): after 15 quiet minutes the call ends; a connected
    one becomes its video contact, one that never connected goes back to planned."""
    from datetime import timedelta as td

    from sprechzimmer.video import services
    from sprechzimmer.video.models import Appointment

    _, _, connected, _ = video_practice("Praxis Verlassen")
    _, _, unconnected, _ = video_practice("Praxis Nie Verbunden")
    _, _, alive, _ = video_practice("Praxis Lebendig")
    long_ago, now = timezone.now() - td(minutes=20), timezone.now()
    for appointment, seen in ((connected, long_ago), (unconnected, long_ago), (alive, now)):
        services.start_call(appointment)
        Appointment.objects.filter(pk=appointment.pk).update(
            doctor_channel="x", patient_channel="y", doctor_seen_at=seen, patient_seen_at=long_ago
        )
    CallSession.objects.filter(appointment=connected).update(connected_at=long_ago)
    assert services.end_abandoned_calls() == 2
    statuses = {a.pk: a.status for a in Appointment.objects.all()}
    assert (
        statuses[connected.pk] == "done" and statuses[unconnected.pk] == "planned" and statuses[alive.pk] == "in_call"
    )
    assert VideoContact.objects.filter(appointment=connected).count() == 1
    assert not VideoContact.objects.filter(appointment=unconnected).exists()


def test_purge_metadata_deletes_expired_sessions_and_keeps_live_ones(db):
    from django.contrib.sessions.models import Session

    from sprechzimmer.sessions import SessionStore

    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["device"] = 1
        store.create()
    Session.objects.filter(pk=expired.session_key).update(expire_date=timezone.now() - timedelta(minutes=1))
    out = StringIO()
    call_command("purge_metadata", stdout=out)
    assert "1 abgelaufene Sitzung(en) gelöscht." in out.getvalue()
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
